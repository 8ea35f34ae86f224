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
    const replica = createEngine({ sources: [sourceFor(server, db)], storage });
    try {
      const error = (await replica.backup().catch((e) => e)) as LifeboatError;
      expect(error.code).toBe('LOCKED');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(db);
      expect((await storage.list('')).filter((o) => o.key.endsWith('.tar.gz'))).toEqual([]);
      // Turn-taking is not a failure: nothing is recorded.
      expect(await replica.history()).toEqual([]);
    } finally {
      await holder.end();
    }
    // The holder is gone (its session ended): the lock is free.
    const result = await replica.backup();
    expect(result.tables).toEqual([{ name: 'public.t', rows: 100, bytes: expect.any(Number) }]);
    // Released after the run: a second backup takes it again.
    expect((await replica.backup()).tables[0]!.rows).toBe(100);
  });
});
