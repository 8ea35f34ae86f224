import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '@lifeboat/core';
import { postgresSource } from '@lifeboat/plugin-postgres';
import { localStorage } from '@lifeboat/storage-local';
import { createDatabase, embeddedServer, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './run-cli.js';

/**
 * SIGKILL of a real backup process (the built packages, a real PostgreSQL, a real folder) at
 * several points. After each: no archive under a final name, the earlier archive intact and
 * verifiable, the lock left behind recognised as stale, and the next run succeeds and cleans up.
 */
const CHILD = fileURLToPath(new URL('./fixtures/pg-backup-child.mjs', import.meta.url));
const server = embeddedServer; // embedded PostgreSQL 18, with a password
const ROWS = 60_000;
let db: string;
let url: string;
let work: string;
let dir: string;
let earlier: { file: string; id: string; bytes: Buffer };

const engineFor = () => {
  const warnings: string[] = [];
  const engine = createEngine({
    sources: [postgresSource({ connectionString: url, partBytes: 128 * 1024 })],
    storage: localStorage({ dir, onWarning: (code) => warnings.push(code) }),
    compressionLevel: 1,
    retention: { keepLast: 100 },
  });
  engine.events.on('warning', (w) => warnings.push(w.code));
  return { engine, warnings };
};

beforeAll(async () => {
  await fs.access(BIN).catch(() => {
    throw new Error('run `pnpm build` first: the child uses the built packages');
  });
  await server.start();
  db = await createDatabase(server, 'kill');
  await sql(
    server,
    db,
    `CREATE TABLE big (id int PRIMARY KEY, body text);
     INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, ${ROWS}) g;
     CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small VALUES (1), (2);`,
  );
  url = `postgres://postgres:${encodeURIComponent(server.password!)}@127.0.0.1:${server.port}/${db}`;
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-kill-'));
  dir = join(work, 'backups');
  const { engine } = engineFor();
  const first = await engine.backup();
  earlier = { file: first.file, id: first.id, bytes: await fs.readFile(join(dir, first.file)) };
  await engine.close();
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Starts the child, waits for it to freeze at `point`, then kills it with SIGKILL. */
async function killAt(point: string): Promise<{ pid: number; out: string }> {
  const child = spawn(process.execPath, [CHILD, dir, url, point, String(ROWS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const frozen = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('FROZEN')) resolve();
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before freezing: ${out}`)),
    );
  });
  await frozen;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return { pid: child.pid!, out };
}

const archivesOnDisk = async () =>
  (await fs.readdir(dir)).filter((n) => n.endsWith('.tar.gz')).sort();

describe.each([
  { point: 'started', partial: false, written: false },
  { point: 'first-data', partial: true, written: false },
  { point: 'mid', partial: true, written: true },
  { point: 'late', partial: true, written: true },
])('a backup killed with SIGKILL at "$point"', ({ point, partial, written }) => {
  it('leaves no archive under a final name; the next run takes over the lock, cleans up and succeeds', async () => {
    const before = await archivesOnDisk();
    const { pid, out } = await killAt(point);
    expect(out).toContain(`FROZEN ${point}`);
    expect(out).not.toContain('done');

    // Nothing new under a final name; what is there is a hidden .partial file at most.
    expect(await archivesOnDisk()).toEqual(before);
    const temps = (await fs.readdir(dir)).filter((n) => n.startsWith('.lifeboat-tmp.'));
    if (partial) {
      expect(temps).toHaveLength(1);
      expect(temps[0]).toMatch(/\.tar\.gz\.partial$/);
      if (written) expect((await fs.stat(join(dir, temps[0]!))).size).toBeGreaterThan(0);
    } else expect(temps.length).toBeLessThanOrEqual(1);
    // The earlier archive is intact.
    expect((await fs.readFile(join(dir, earlier.file))).equals(earlier.bytes)).toBe(true);
    // The lock is still there, owned by the dead process.
    const lock = JSON.parse(await fs.readFile(join(dir, '.lifeboat', 'lock'), 'utf8'));
    expect(lock.pid).toBe(pid);
    expect(lock.operation).toBe('backup');

    // The server ends the killed process's session.
    const sessions = () =>
      sql(
        server,
        'postgres',
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat'",
        [db],
      );
    for (let i = 0; i < 100 && (await sessions()).length > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await sessions()).toEqual([]);

    const { engine, warnings } = engineFor();
    expect((await engine.list()).map((a) => a.file).sort()).toEqual(before);
    const next = await engine.backup();
    expect(warnings).toContain('STALE_LOCK');
    if (temps.length > 0) expect(warnings).toContain('TEMP_CLEANED');
    const after = await fs.readdir(dir);
    expect(after.filter((n) => n.startsWith('.lifeboat-tmp.'))).toEqual([]);
    expect(await archivesOnDisk()).toEqual([...before, next.file].sort());
    await expect(fs.stat(join(dir, '.lifeboat', 'lock'))).rejects.toThrow();
    expect(next.tables).toContainEqual({
      name: 'public.big',
      rows: ROWS,
      bytes: expect.any(Number),
    });
    expect((await engine.verify(earlier.id)).ok).toBe(true);
    expect((await engine.verify(next.id)).ok).toBe(true);
    await engine.close();
  });
});
