import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { createDatabase, servers, sql, type TestServer } from './support/servers.js';

/** Splits CSV text into records, honouring quoted newlines and doubled quotes. */
function records(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '\n' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  expect(quoted).toBe(false);
  expect(start).toBe(text.length);
  return out;
}

describe.each(servers)('row-aligned COPY parts on $name', (server: TestServer) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'copyout');
    await sql(
      server,
      db,
      `CREATE TABLE notes (id int PRIMARY KEY, body text);
       INSERT INTO notes SELECT g, CASE g % 4 WHEN 0 THEN E'multi\\nline, "quoted"\\n' WHEN 1 THEN '' WHEN 2 THEN NULL ELSE repeat('x', g) END
       FROM generate_series(1, 3000) g;`,
    );
  });

  it('cuts parts only between rows, each with the header, however small the parts', async () => {
    const { engine, storage } = engineFor(server, db, { partBytes: 1024, jobs: 1 });
    const result = await engine.backup();
    expect(result.tables).toEqual([
      { name: 'public.notes', rows: 3000, bytes: expect.any(Number) },
    ]);
    const dir = await extractArchive(storage);
    const files = (await readdir(join(dir, 'database', 'data'))).sort();
    expect(files.length).toBeGreaterThan(10);
    let rows = 0;
    for (const file of files) {
      const lines = records(await readFile(join(dir, 'database', 'data', file), 'utf8'));
      expect(lines[0]).toBe('id,body');
      expect(lines.length).toBeGreaterThan(1);
      rows += lines.length - 1;
    }
    expect(rows).toBe(3000);
  });
});
