import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import {
  adminClient,
  createDatabase,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const ROWS = 40_000;

describe.each(servers)('snapshot consistency on $name', (server) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'bank');
    // Two tables, so two workers copy them on different connections at the same time.
    await sql(
      server,
      db,
      `
      CREATE TABLE accounts_a (id int PRIMARY KEY, amount bigint NOT NULL, pad text);
      CREATE TABLE accounts_b (id int PRIMARY KEY, amount bigint NOT NULL, pad text);
      INSERT INTO accounts_a SELECT g, 1000, repeat('x', 20) FROM generate_series(1, ${ROWS}) g;
      INSERT INTO accounts_b SELECT g, 1000, repeat('y', 20) FROM generate_series(1, ${ROWS}) g;`,
    );
  });

  it('a parallel backup sees every transfer wholly or not at all', async () => {
    const writer = adminClient(server, db);
    await writer.connect();
    let running = true;
    let transfers = 0;
    const writing = (async () => {
      for (let i = 0; running; i++) {
        const from = 1 + ((i * 7919) % ROWS);
        const to = 1 + ((i * 104729) % ROWS);
        const [a, b] = i % 2 === 0 ? ['accounts_a', 'accounts_b'] : ['accounts_b', 'accounts_a'];
        await writer.query('BEGIN');
        await writer.query(`UPDATE ${a} SET amount = amount - 37 WHERE id = $1`, [from]);
        await writer.query(`UPDATE ${b} SET amount = amount + 37 WHERE id = $1`, [to]);
        await writer.query('COMMIT');
        transfers++;
      }
    })();
    let duringBackup = 0;
    try {
      // Let the writer get going, then back up with small parts over three connections; each
      // table is big enough to be copied in page ranges by several workers (PostgreSQL 14+).
      while (transfers < 20) await new Promise((r) => setTimeout(r, 5));
      const backup = engineFor(server, db, {
        jobs: 3,
        partBytes: 8 * 1024,
        splitBytes: 1024 * 1024,
      });
      const before = transfers;
      const result = await backup.engine.backup();
      duringBackup = transfers - before;
      expect(result.tables.find((t) => t.name === 'public.accounts_a')!.rows).toBe(ROWS);
      expect(result.tables.find((t) => t.name === 'public.accounts_b')!.rows).toBe(ROWS);
      const manifest = JSON.parse(
        await readFile(join(await extractArchive(backup.storage), 'manifest.json'), 'utf8'),
      );
      const tables = manifest.sources[0].summary.tables as { name: string; ranges?: number }[];
      expect(tables.map((t) => t.name)).toEqual(['public.accounts_a', 'public.accounts_b']);
      // Both test servers (15, 18) have TID range scans.
      for (const t of tables) expect(t.ranges, t.name).toBeGreaterThan(1);
      running = false;
      await writing;
      const target = uniqueName('bank_restored');
      trackDatabase(server, target);
      await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
      const [restored] = await sql<{ total: string }>(
        server,
        target,
        'SELECT (SELECT sum(amount) FROM accounts_a) + (SELECT sum(amount) FROM accounts_b) AS total',
      );
      expect(Number(restored!.total)).toBe(2 * ROWS * 1000);
      // The restored split between the tables is a state the writer really passed through.
      const [a] = await sql<{ total: string }>(
        server,
        target,
        'SELECT sum(amount) AS total FROM accounts_a',
      );
      expect(Math.abs((Number(a!.total) - ROWS * 1000) % 37)).toBe(0);
    } finally {
      running = false;
      await writing.catch(() => {});
      await writer.end();
    }
    // The test means something only if transfers happened while the backup ran.
    expect(duringBackup).toBeGreaterThan(10);
  });
});
