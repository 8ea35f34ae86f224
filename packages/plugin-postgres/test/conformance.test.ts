import { testSource } from '@lifeboat/core/testing';
import { expect } from 'vitest';
import {
  createDatabase,
  embeddedServer,
  servers,
  sourceFor,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

for (const server of servers) {
  testSource(
    `postgres on ${server.name}`,
    async () => {
      await server.start();
      const database = await createDatabase(server, 't19_conf');
      await sql(
        server,
        database,
        `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g`,
      );
      const target = uniqueName('t19_conf_r');
      trackDatabase(server, target);
      return {
        source: sourceFor(server, database),
        restoreOptions: { targetDatabase: target },
        async checkRestored() {
          const rows = await sql<{ n: string; s: string }>(
            server,
            target,
            'SELECT count(*) AS n, sum(id) AS s FROM items',
          );
          expect(rows).toEqual([{ n: '500', s: String((500 * 501) / 2) }]);
        },
      };
    },
    { secrets: embeddedServer.password ? [embeddedServer.password] : [] },
  );
}
