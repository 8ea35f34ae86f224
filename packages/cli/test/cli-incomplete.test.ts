import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, servers, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * A database holding objects Lifeboat cannot keep (here: a kind of object it has never seen, in
 * a catalog of its own, as a newer server would bring one). `backup` fails (exit 1,
 * BACKUP_INCOMPLETE, nothing stored); with BACKUP_ALLOW_INCOMPLETE or --allow-incomplete it
 * stores the rest, and status and health say the newest backup is incomplete.
 */
const server = servers[0]!;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  await server.start();
  const db = await createDatabase(server, 'cliincomplete');
  await sql(
    server,
    db,
    `SET allow_system_table_mods = on;
     CREATE TABLE pg_catalog.pg_gadget (oid oid NOT NULL, gadname name NOT NULL);
     INSERT INTO pg_catalog.pg_gadget VALUES (20011, 'sprocket');
     RESET allow_system_table_mods;
     CREATE TABLE items (id int PRIMARY KEY);
     INSERT INTO items SELECT generate_series(1, 10);`,
  );
  const auth = server.password ? `:${encodeURIComponent(server.password)}` : '';
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-incomplete-'));
  env = {
    DATABASE_URL: `postgres://${server.user}${auth}@${server.host}:${server.port}/${db}`,
    BACKUP_DIR: join(work, 'backups'),
  };
}, 120_000);
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const archives = async () =>
  (await fs.readdir(env.BACKUP_DIR!).catch(() => [] as string[])).filter((n) =>
    n.endsWith('.tar.gz'),
  );

describe('lifeboat backup of a database with objects it cannot keep', () => {
  it('fails without the opt-in, naming the objects and the setting', async () => {
    const r = await runCli(['backup'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BACKUP_INCOMPLETE');
    expect(r.stderr).toContain('sprocket');
    expect(r.stderr).toContain('BACKUP_ALLOW_INCOMPLETE');
    expect(await archives()).toEqual([]);
    const status = await runCli(['status', '--json'], env);
    expect(JSON.parse(status.stdout).lastFailure.code).toBe('BACKUP_INCOMPLETE');
  });

  it('stores the rest with --allow-incomplete or BACKUP_ALLOW_INCOMPLETE; status and health warn', async () => {
    const flag = await runCli(['backup', '--allow-incomplete', '--json'], env);
    expect(flag.code, flag.stderr).toBe(0);
    const doc = JSON.parse(flag.stdout);
    expect(doc.incomplete.map((o: { name: string }) => o.name)).toEqual(['sprocket (oid 20011)']);
    const byEnv = await runCli(['backup'], { ...env, BACKUP_ALLOW_INCOMPLETE: 'true' });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stderr).toContain('BACKUP_INCOMPLETE');
    expect(await archives()).toHaveLength(2);

    const status = await runCli(['status'], env);
    expect(status.stdout).toMatch(
      /incomplete: +BACKUP_INCOMPLETE, 1 object\(s\) left out: object sprocket/,
    );
    const health = await runCli(['health', '--json'], env);
    const report = JSON.parse(health.stdout);
    expect(report.status).toBe('WARNING');
    expect(health.code).toBe(1);
    expect(report.checks.find((c: { name: string }) => c.name === 'backup-complete').status).toBe(
      'warning',
    );
  });

  it('rejects a value that is not a yes or no', async () => {
    const r = await runCli(['backup'], { ...env, BACKUP_ALLOW_INCOMPLETE: 'perhaps' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BACKUP_ALLOW_INCOMPLETE must be true or false');
  });
});
