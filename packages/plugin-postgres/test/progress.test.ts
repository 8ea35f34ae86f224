import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql } from './support/servers.js';

/**
 * The total a progress display shows comes from the catalog (pages on disk), which can be far
 * from the CSV a table becomes: compressed TOAST values grow many times over. The estimate must
 * grow with the work, so the copied bytes never pass it, and end equal to what was copied.
 */
const server = servers[0]!;
let db: string;
beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'progress');
  await sql(
    server,
    db,
    `CREATE TABLE toasted (id int PRIMARY KEY, body text);
     INSERT INTO toasted SELECT g, repeat('x', 200000) FROM generate_series(1, 40) g;
     CREATE TABLE plain (id int PRIMARY KEY, n int);
     INSERT INTO plain SELECT g, g FROM generate_series(1, 20000) g;
     CREATE TABLE later (id int PRIMARY KEY, body text);
     INSERT INTO later SELECT g, repeat('y', 100000) FROM generate_series(1, 20) g;
     ANALYZE;`,
  );
}, 120_000);

describe('backup progress estimate', () => {
  it('never falls below the bytes copied, and ends at the real size', async () => {
    const { engine } = engineFor(server, db, { jobs: 1, partBytes: 256 * 1024 });
    const seen: { bytes: number; totalBytes?: number }[] = [];
    engine.events.on('source:progress', (p) => {
      if (p.source === 'postgres') seen.push({ bytes: p.bytes, totalBytes: p.totalBytes });
    });
    let copied = 0;
    engine.events.on('source:item', (t) => {
      if (t.kind === 'table') copied += t.bytes ?? 0;
    });
    await engine.backup();
    await engine.close();
    expect(seen.length).toBeGreaterThan(10);
    // The catalog's first guess is far below the CSV (compressed TOAST).
    expect(seen[0]!.totalBytes!).toBeLessThan(copied / 4);
    for (const p of seen) expect(p.totalBytes!).toBeGreaterThanOrEqual(p.bytes);
    expect(seen.at(-1)!.bytes).toBe(copied);
    expect(seen.at(-1)!.totalBytes).toBe(copied);
  }, 120_000);
});
