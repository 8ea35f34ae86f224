import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alterMembers } from '@lifeboat/test-support/archive-edit';
import { createDatabase, servers, sql, type TestServer } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * `lifeboat verify --tables/--only` through the real CLI against a real backup: it reads only the
 * members holding the chosen tables, finds an altered byte in them, does not see one elsewhere
 * (and says so), and is never recorded as a verify of the archive.
 */
const server: TestServer = servers[0]!;
const urlOf = (db: string) =>
  `postgres://${server.user}${server.password ? `:${server.password}` : ''}@${server.host}:${server.port}/${db}`;

interface Located {
  path: string;
  location: { member: number; end: number; inner: number };
}

let dir: string;
let env: Record<string, string>;
let file: string;

beforeAll(async () => {
  await server.start();
  const db = await createDatabase(server, 'pverify');
  await sql(
    server,
    db,
    `CREATE TABLE users (id int PRIMARY KEY, name text);
     INSERT INTO users SELECT g, 'user-' || g FROM generate_series(1, 50) g;
     CREATE TABLE events (id int PRIMARY KEY, what text);
     INSERT INTO events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 200000) g;`,
  );
  dir = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cli-verify-chosen-'));
  env = { DATABASE_URL: urlOf(db), BACKUP_DIR: join(dir, 'backups') };
  const backup = await runCli(['backup', '--json'], env);
  expect(backup.code, backup.stderr).toBe(0);
  file = JSON.parse(backup.stdout).file;
}, 120_000);
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const manifest = (): { entries: Located[] } =>
  JSON.parse(
    execFileSync('tar', ['-xzOf', join(env.BACKUP_DIR!, file), 'manifest.json'], {
      encoding: 'utf8',
    }),
  );

/** Changes one byte of `entry` (at `text`, past `after` bytes of it), the archive's size kept. */
async function alter(entry: string, text: string, after = 0) {
  const at = manifest().entries.find((e) => e.path === entry)!.location;
  const path = join(env.BACKUP_DIR!, file);
  const raw = await fs.readFile(path);
  await fs.writeFile(
    path,
    alterMembers(raw, { start: at.member, end: at.end }, (inflated) => {
      const i = inflated.indexOf(text, at.inner + 512 + after);
      expect(i).toBeGreaterThan(at.inner);
      inflated[i]! ^= 0x01;
    }),
  );
}

describe('lifeboat verify --tables / --only (chosen entries)', () => {
  let usersEntries: string[];
  let eventsEntries: string[];

  it('reads a small fraction of the archive and says only the chosen entries were verified', async () => {
    const r = await runCli(['verify', 'latest', '--tables', 'users', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.verified).toBe('chosen entries only');
    expect(out.chosen.method).toBe('ranges');
    usersEntries = out.chosen.entries;
    expect(usersEntries.length).toBeGreaterThan(0);
    expect(
      usersEntries.every((p: string) => p.startsWith('database/') && p.includes('users')),
    ).toBe(true);
    expect(out.entries).toBe(usersEntries.length);
    expect(out.chosen.storedBytes).toBe((await fs.stat(join(env.BACKUP_DIR!, file))).size);
    expect(out.chosen.storedBytesRead).toBeGreaterThan(0);
    expect(out.chosen.storedBytesRead).toBeLessThan(out.chosen.storedBytes * 0.1);

    const human = await runCli(['verify', 'latest', '--tables', 'use*'], env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('only the chosen entries were verified, not the whole archive');
    expect(human.stdout).toMatch(/read [\d.]+ [KM]?i?B of the archive's [\d.]+ MiB/);

    const events = JSON.parse(
      (await runCli(['verify', 'latest', '--tables', 'events', '--json'], env)).stdout,
    );
    eventsEntries = events.chosen.entries;
    expect(events.ok).toBe(true);
  });

  it('a pattern matching nothing is an error naming it, as restore; --deep with a choice is refused', async () => {
    const none = await runCli(['verify', 'latest', '--tables', 'nosuch*', '--json'], env);
    expect(none.code).toBe(1);
    const e = JSON.parse(none.stdout).error;
    expect(e.code).toBe('TABLE_NOT_FOUND');
    expect(e.message).toContain('"nosuch*"');
    const restore = await runCli(
      [
        'restore',
        'latest',
        '--tables',
        'nosuch*',
        '--target-database',
        'lb_pverify_never',
        '--json',
      ],
      env,
    );
    expect(restore.code).toBe(none.code);
    expect(JSON.parse(restore.stdout).error.code).toBe('TABLE_NOT_FOUND');

    const deep = await runCli(['verify', 'latest', '--tables', 'users', '--deep', '--json'], env);
    expect(deep.code).toBe(2);
    expect(JSON.parse(deep.stdout).error.code).toBe('CONFIG_INVALID');
    const only = await runCli(['verify', 'latest', '--only', 'files'], env);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('--only must be "database" or "config"');
  });

  it('status, health and metrics do not count it as a verify of the archive', async () => {
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(status.lastVerify).toBeUndefined();
    const metrics = await runCli(['metrics'], env);
    expect(metrics.code, metrics.stderr).toBe(0);
    expect(metrics.stdout).not.toMatch(/kind="(deep_)?verify"/);
    const human = await runCli(['status'], env);
    expect(human.stdout).toContain('last verify:  never');
    const health = JSON.parse((await runCli(['health', '--json'], env)).stdout);
    const drill = health.checks.find((c: { name: string }) => c.name === 'restore-drill');
    expect(drill.message).toContain('No restore drill yet');
  });

  it('an altered byte in a table not chosen passes, saying only the chosen entries were checked', async () => {
    // A part in the middle of events: members of its own, far from users'.
    const part = eventsEntries[Math.floor(eventsEntries.length / 2)]!;
    await alter(part, ',', 1000);
    const other = await runCli(['verify', 'latest', '--tables', 'users', '--json'], env);
    expect(other.code, other.stdout).toBe(0);
    const out = JSON.parse(other.stdout);
    expect(out.verified).toBe('chosen entries only');
    expect(out.chosen.method).toBe('ranges');
    expect(out.chosen.entries).toEqual(usersEntries);
    const human = await runCli(['verify', 'latest', '--tables', 'users'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('only the chosen entries were verified, not the whole archive');

    const chosen = await runCli(['verify', 'latest', '--tables', 'events'], env);
    expect(chosen.code).toBe(1);
    expect(chosen.stdout).toContain(part);
    // The whole archive's verify finds it too, and is the one recorded.
    const whole = await runCli(['verify', 'latest', '--json'], env);
    expect(whole.code).toBe(1);
    expect(JSON.parse(whole.stdout).verified).toBe('whole archive');
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(status.lastVerify).toMatchObject({ ok: false, deep: false });
  });

  it('an altered byte in a chosen table fails, naming the entry', async () => {
    await alter(usersEntries[0]!, 'user-42');
    const bad = await runCli(['verify', 'latest', '--tables', 'users'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`ENTRY_MISMATCH: "${usersEntries[0]}"`);
    expect(bad.stdout).toContain('only the chosen entries were verified');
    expect(bad.stdout).toMatch(/read [\d.]+ [KM]?i?B of the archive's/);
  });
});
