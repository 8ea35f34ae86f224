import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createEngine, type Storage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { archiveKeys, engineFor } from './support/engine.js';
import {
  createDatabase,
  servers,
  sourceFor,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * A full restore into a new database creates it while the engine still hashes the stored
 * archive (prepareRestore). A restore refused by that check must still leave the server as it
 * was: the database made meanwhile is dropped again.
 */
describe.each(servers)('a new database prepared during the archive check on $name', (server) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'prep');
    await sql(
      server,
      db,
      `CREATE TABLE t (id int PRIMARY KEY, v text);
       INSERT INTO t SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g;`,
    );
  });

  const exists = async (name: string) =>
    (
      await sql(server, 'postgres', 'SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [
        name,
      ])
    ).length > 0;

  it('is dropped when the stored bytes turn out changed, though it was made meanwhile', async () => {
    const { engine, storage } = engineFor(server, db);
    await engine.backup();
    const [key] = await archiveKeys(storage);
    const bytes = await buffer(await storage.get(key!));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await storage.put(key!, bytes, { overwrite: true });
    const target = uniqueName('prep_r');
    trackDatabase(server, target);
    // The check's first read of the archive waits until the database exists: it was created
    // before the check's verdict, and that verdict then refuses the archive.
    let seen = false;
    let first = true;
    const slow: Storage = {
      ...storage,
      get: async (k, options) => {
        if (k !== key || !first) return storage.get(k, options);
        first = false;
        return Readable.from(
          (async function* () {
            for (let i = 0; i < 500 && !seen; i++) {
              seen = await exists(target);
              if (!seen) await new Promise((resolve) => setTimeout(resolve, 20));
            }
            yield bytes;
          })(),
        );
      },
    };
    const restore = createEngine({ sources: [sourceFor(server, db)], storage: slow });
    const error = await rejectionOf(
      restore.restore('latest', { postgres: { targetDatabase: target } }),
    );
    expect(error.code).toBe('ARCHIVE_CORRUPT');
    expect(seen).toBe(true);
    expect(await exists(target)).toBe(false);
  });

  it('is the restore’s own when the check passes: created, loaded, reported as created', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    const target = uniqueName('prep_ok');
    trackDatabase(server, target);
    const result = await engine.restore('latest', { postgres: { targetDatabase: target } });
    expect(result.sections[0]?.summary).toMatchObject({ mode: 'full', created: true });
    const rows = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM t');
    expect(Number(rows[0]!.n)).toBe(20000);
  });
});
