import { createEngine, type LifeboatError, memoryStorage } from '@lifeboat/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  createDatabase,
  servers,
  sourceFor,
  sql,
  type TestServer,
} from './support/servers.js';

const LOCK =
  "SELECT pg_advisory_lock(hashtextextended('lifeboat:backup:' || current_database(), 0))";

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
    // Another replica's backup holds the database's lock; this one has a storage of its own.
    const holder = adminClient(server, db);
    await holder.connect();
    await holder.query(LOCK);
    const storage = memoryStorage();
    let t = Date.now();
    const replica = createEngine({
      sources: [sourceFor(server, db)],
      storage,
      now: () => new Date(t),
    });
    try {
      const error = (await replica.backup().catch((e) => e)) as LifeboatError;
      expect(error.code).toBe('LOCKED');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(db);
      expect((await storage.list('')).filter((o) => o.key.endsWith('.tar.gz'))).toEqual([]);
      // A refusal is recorded as one, not as a failed backup.
      expect((await replica.history()).map((r) => r.error?.code)).toEqual(['LOCKED']);
      expect((await replica.status()).lastFailure).toBeUndefined();
      // A lock anyone who can connect may hold: three attempts in a row refused are a WARNING
      // (issue 14 item 14), never silence.
      for (let i = 0; i < 2; i++) {
        t += 15 * 60_000;
        await expect(replica.backup()).rejects.toMatchObject({ code: 'LOCKED' });
      }
      expect((await replica.status()).lockedInARow).toBe(3);
      const health = await replica.health();
      expect(health.checks.find((c) => c.name === 'backup-lock')).toMatchObject({
        status: 'warning',
        details: { code: 'LOCKED_RUNS', lockedInARow: 3 },
      });
    } finally {
      await holder.end();
    }
    // The holder is gone (its session ended): the lock is free.
    const result = await replica.backup();
    expect(result.tables).toEqual([{ name: 'public.t', rows: 100, bytes: expect.any(Number) }]);
    // Released after the run: a second backup takes it again.
    expect((await replica.backup()).tables[0]!.rows).toBe(100);
    expect((await replica.status()).lockedInARow).toBe(0);
  });
});
