import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeDatabase } from './support/compare.js';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql, trackDatabase, uniqueName } from './support/servers.js';

/**
 * A restore cuts its scripts at marker lines. Whoever may create an index, a comment or a
 * function in the source database can put a marker-like line into it: it must neither break the
 * restore nor run as a statement of its own (which would run it as the restoring user).
 */
describe.each(servers)('marker lines inside database text on $name', (server) => {
  it('are text, not markers: the restore is exact and runs nothing else', async () => {
    await server.start();
    const pwned = `lb_pwned_${randomBytes(3).toString('hex')}`;
    const fake = (marker: string) => `E'a\\n-- ${marker}\\nCREATE ROLE ${pwned}; --'`;
    const db = await createDatabase(server, 'markers');
    await sql(
      server,
      db,
      `CREATE TABLE t (id int PRIMARY KEY, x text);
       INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g;
       CREATE INDEX t_old ON t (x) WHERE x <> ${fake('lifeboat:parallel ["\\"public\\".\\"t\\""]')};
       CREATE INDEX t_new ON t (x) WHERE x <> ${fake(`lifeboat:${'0'.repeat(24)}:parallel ["\\"public\\".\\"t\\""]`)};
       COMMENT ON TABLE t IS ${fake('lifeboat:commit-point')};
       COMMENT ON COLUMN t.x IS ${fake('lifeboat:parallel-fk-end')};
       CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $f$ SELECT ${fake('lifeboat:batch')} $f$;`,
    );
    const original = await describeDatabase(server, db);
    const { engine } = engineFor(server, db);
    await engine.backup();
    const target = uniqueName('markers_r');
    trackDatabase(server, target);
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    const roles = await sql(server, 'postgres', 'SELECT 1 FROM pg_roles WHERE rolname = $1', [
      pwned,
    ]);
    expect(roles).toEqual([]);
    const restored = await describeDatabase(server, target);
    expect(restored.catalog).toEqual(original.catalog);
    expect(restored.data).toEqual(original.data);
  });
});
