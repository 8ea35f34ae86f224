import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  dropDatabasesThenRoles,
  embeddedServer,
  servers,
  sql,
  type TestServer,
  uniqueName,
} from '@lifeboat/test-support/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * BACKUP_GLOBALS and restore --globals through the built CLI: a backup of the local server's
 * database, restored into the embedded PostgreSQL 18, where its roles do not exist.
 */
const source = servers.find((s) => s !== embeddedServer);
const target = embeddedServer;
const p = `lbcg${randomBytes(3).toString('hex')}`;
const roles = { owner: `${p}_owner`, reader: `${p}_reader` };
let work: string | undefined;

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
  if (source) await dropDatabasesThenRoles(source, 'cliglob', [roles.reader, roles.owner]);
});

const urlOf = (server: TestServer, db: string) => {
  const password = server.password ? `:${encodeURIComponent(server.password)}` : '';
  return `postgres://${server.user}${password}@${server.host}:${server.port}/${db}`;
};

/** The table's owner and ACL; PostgreSQL 17's MAINTAIN (m) in an owner's defaults left out. */
const ownerOf = async (server: TestServer, db: string) =>
  (
    await sql<{ owner: string; acl: string }>(
      server,
      db,
      "SELECT relowner::regrole::text AS owner, replace(relacl::text, '=arwdDxtm/', '=arwdDxt/') AS acl FROM pg_class WHERE oid = 'public.items'::regclass",
    )
  )[0];

describe.skipIf(!source)('lifeboat with BACKUP_GLOBALS', () => {
  it('backs up the roles and creates them with restore --globals; without it, warns ROLE_MISSING', async () => {
    const from = source!;
    await from.start();
    await target.start();
    const db = await createDatabase(from, 'cliglob');
    await sql(
      from,
      'postgres',
      `CREATE ROLE ${roles.owner} LOGIN CREATEDB; CREATE ROLE ${roles.reader} NOLOGIN`,
    );
    await sql(
      from,
      db,
      `CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2);
       ALTER TABLE items OWNER TO ${roles.owner}; GRANT SELECT ON items TO ${roles.reader}`,
    );
    work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cliglob-'));
    const env = { DATABASE_URL: urlOf(from, db), BACKUP_DIR: join(work, 'backups') };

    const bad = await runCli(['backup', '--json'], { ...env, BACKUP_GLOBALS: 'everyone' });
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toContain('BACKUP_GLOBALS must be roles');

    const backup = await runCli(['backup', '--json'], { ...env, BACKUP_GLOBALS: 'roles' });
    expect(backup.code, backup.stderr).toBe(0);
    const made = JSON.parse(backup.stdout);
    expect(made.warnings.map((w: { code: string }) => w.code)).toContain(
      'GLOBALS_PASSWORDS_LEFT_OUT',
    );

    // Without --globals: the roles are missing on the new server; the restore still succeeds.
    const plain = uniqueName('cliglob_plain');
    const r1 = await runCli(['restore', 'latest', '--json'], {
      ...env,
      TARGET_DATABASE_URL: urlOf(target, plain),
    });
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    // Warnings of a restore are lines on standard error.
    const missing = r1.stderr.split('\n').filter((l) => l.includes('warning ROLE_MISSING:'));
    expect(missing.join('\n')).toContain(`owner role ${roles.owner} does not exist`);
    expect(missing.join('\n')).toContain(`role ${roles.reader} does not exist`);
    expect((await ownerOf(target, plain))?.owner).toBe(target.user);

    // With --globals: created first, so the table has its owner and grant.
    const full = uniqueName('cliglob_full');
    const r2 = await runCli(['restore', 'latest', '--globals', '--json'], {
      ...env,
      TARGET_DATABASE_URL: urlOf(target, full),
    });
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(r2.stderr).not.toContain('ROLE_MISSING');
    expect(r2.stdout).toContain('"rolesCreated": 2');
    expect(await ownerOf(target, full)).toEqual(await ownerOf(from, db));

    // The human summary says how many roles were made (none now: they exist).
    const human = uniqueName('cliglob_human');
    const r3 = await runCli(['restore', 'latest', '--globals'], {
      ...env,
      TARGET_DATABASE_URL: urlOf(target, human),
    });
    expect(r3.code, r3.stdout + r3.stderr).toBe(0);
    expect(r3.stdout + r3.stderr).toMatch(/database\/ \([^)]*\): 0 roles created \(--globals\)/);
  });
});
