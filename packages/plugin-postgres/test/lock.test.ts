import { createEngine, type LifeboatError, memoryStorage } from '@lifeboat/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, servers, sourceFor, sql, type TestServer } from './support/servers.js';

describe.each(servers)('advisory lock on $name', (server: TestServer) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'advlock');
    await sql(
      server,
      db,
      'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100);',
    );
  });

  it('lets one replica back up a database at a time, whatever their storages', async () => {
    const holder = sourceFor(server, db);
    const held = await holder.lock({ waitMs: 0 });
    // A second replica with its own storage: the storage locks do not meet, the database's does.
    const storage = memoryStorage();
    const replica = createEngine({ sources: [sourceFor(server, db)], storage });
    const error = (await replica.backup().catch((e) => e)) as LifeboatError;
    expect(error.code).toBe('LOCKED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(db);
    expect((await storage.list('')).filter((o) => o.key.endsWith('.tar.gz'))).toEqual([]);
    // Prune takes it too.
    expect(((await replica.prune().catch((e) => e)) as LifeboatError).code).toBe('LOCKED');

    await held.release();
    const result = await replica.backup();
    expect(result.tables).toEqual([{ name: 'public.t', rows: 100 }]);
    // Released after the run: the holder can take it again at once.
    const again = await holder.lock({ waitMs: 0 });
    await again.release();
  });

  it('waits for the holder when asked to', async () => {
    const holder = sourceFor(server, db);
    const held = await holder.lock({ waitMs: 0 });
    const engine = createEngine({
      sources: [sourceFor(server, db)],
      storage: memoryStorage(),
      lock: { waitMs: 5000 },
    });
    const started = Date.now();
    setTimeout(() => void held.release(), 300);
    const result = await engine.backup();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(result.tables[0]!.rows).toBe(100);
  });
});
