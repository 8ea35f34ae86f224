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

  it('keeps every row whole when parts go through the reused part buffer, rows larger than it too', async () => {
    // 300 KiB rows do not fit the part buffer's spare room (partBytes + 256 KiB): they go as
    // they are; the rows around them are copied into it and the buffer is reused part after part.
    await sql(
      server,
      db,
      `CREATE TABLE wide (id int PRIMARY KEY, body text);
       INSERT INTO wide SELECT g, CASE WHEN g % 50 = 0 THEN repeat(chr(65 + g % 26), 300000) ELSE repeat(chr(97 + g % 26), g % 700) END
       FROM generate_series(1, 2000) g;`,
    );
    const { engine, storage } = engineFor(server, db, { partBytes: 64 * 1024, jobs: 1 });
    await engine.backup();
    const dir = await extractArchive(storage);
    const files = (await readdir(join(dir, 'database', 'data'))).filter((f) => f.includes('wide'));
    expect(files.length).toBeGreaterThan(10);
    const seen = new Set<number>();
    for (const file of files) {
      const lines = records(await readFile(join(dir, 'database', 'data', file), 'utf8'));
      expect(lines[0]).toBe('id,body');
      for (const line of lines.slice(1)) {
        const [id, body = ''] = line.split(',');
        const g = Number(id);
        const letter =
          g % 50 === 0 ? String.fromCharCode(65 + (g % 26)) : String.fromCharCode(97 + (g % 26));
        expect(body, `row ${g}`).toBe(letter.repeat(g % 50 === 0 ? 300000 : g % 700));
        seen.add(g);
      }
    }
    expect(seen.size).toBe(2000);
  });
});
