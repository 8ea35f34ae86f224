import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTlsServer, type TlsServer } from '@lifeboat/test-support/postgres-tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * libpq's SSL settings through the CLI, against a real TLS server: an embedded PostgreSQL with a
 * certificate for `localhost` signed by a CA made here, whose pg_hba.conf takes SSL connections
 * only (hostssl; hostnossl is rejected), so a backup that succeeds went over TLS.
 */
let work: string;
let server: TlsServer;
let port: number;
let PASSWORD: string;
let serverLog: string[];

beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-tls-'));
  server = await startTlsServer(
    work,
    'tls_app',
    'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 50)',
  );
  ({ port, password: PASSWORD, log: serverLog } = server);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** libpq's variables only, a HOME without ~/.postgresql, a fresh backup folder. */
const env = (extra: Record<string, string>) => ({
  HOME: join(work, 'home'),
  PGHOST: '127.0.0.1',
  PGPORT: String(port),
  PGUSER: 'postgres',
  PGPASSWORD: PASSWORD,
  PGDATABASE: 'tls_app',
  BACKUP_DIR: join(work, 'backups'),
  ...extra,
});

const expectNoSecret = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
};

describe('libpq SSL settings', () => {
  it('PGSSLMODE=verify-full with PGSSLROOTCERT: the backup goes over TLS, checked against the CA', async () => {
    const before = serverLog.length;
    const r = await runCli(
      ['backup', '--json'],
      env({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: 'ca.pem', PGHOST: 'localhost' }),
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tables).toContainEqual(
      expect.objectContaining({ name: 'public.t', rows: 50 }),
    );
    // The server logged each session of the backup as an SSL one.
    const sessions = serverLog.slice(before).join('\n');
    expect(sessions).toMatch(/connection authorized: user=postgres database=tls_app.*SSL enabled/);
    expect(sessions).not.toMatch(/no pg_hba\.conf entry/);
    expectNoSecret(r);
  });

  it('a wrong PGSSLROOTCERT fails with DATABASE_TLS_FAILED naming it, and no secret', async () => {
    const r = await runCli(
      ['backup'],
      env({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: join(work, 'wrong-ca.pem') }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error DATABASE_TLS_FAILED: .*PGSSLROOTCERT \(.*wrong-ca\.pem\)/);
    expect(r.stderr).toMatch(/PGSSLMODE=verify-full/);
    expectNoSecret(r);
    const json = await runCli(
      ['backup', '--json'],
      env({ PGSSLMODE: 'verify-ca', PGSSLROOTCERT: join(work, 'wrong-ca.pem') }),
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.code).toBe('DATABASE_TLS_FAILED');
    expectNoSecret(json);
  });

  it('verify-full checks the host name; verify-ca only the signature', async () => {
    const ca = join(work, 'ca.pem');
    // The certificate is for localhost, not 127.0.0.1.
    const full = await runCli(['backup'], env({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca }));
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/DATABASE_TLS_FAILED: .*not for the host name/);
    const chain = await runCli(['backup'], env({ PGSSLMODE: 'verify-ca', PGSSLROOTCERT: ca }));
    expect(chain.code, chain.stderr).toBe(0);
  });

  it('require without a root certificate encrypts without checking; disable is refused by hostssl', async () => {
    const require = await runCli(['backup'], env({ PGSSLMODE: 'require' }));
    expect(require.code, require.stderr).toBe(0);
    // No sslmode at all: libpq's prefer tries SSL first.
    const prefer = await runCli(['backup'], env({}));
    expect(prefer.code, prefer.stderr).toBe(0);
    // allow tries without first, and with SSL once the server refused.
    const allow = await runCli(['backup'], env({ PGSSLMODE: 'allow' }));
    expect(allow.code, allow.stderr).toBe(0);
    const disable = await runCli(['backup'], env({ PGSSLMODE: 'disable' }));
    expect(disable.code).toBe(1);
    expect(disable.stderr).toMatch(/DATABASE_AUTH_FAILED: .*no encryption/);
    expect(disable.stderr).toMatch(/PGSSLMODE=disable/);
    expectNoSecret(disable);
  });

  it('~/.postgresql/root.crt is the default root certificate, as for libpq; missing, verify-full is refused', async () => {
    const missing = await runCli(['backup'], env({ PGSSLMODE: 'verify-full' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /CONFIG_INVALID: .*root certificate file .*\.postgresql\/root\.crt does not exist/,
    );
    const home = join(work, 'home-with-root');
    await fs.mkdir(join(home, '.postgresql'), { recursive: true });
    await fs.copyFile(join(work, 'ca.pem'), join(home, '.postgresql', 'root.crt'));
    const found = await runCli(
      ['backup'],
      env({ PGSSLMODE: 'verify-full', PGHOST: 'localhost', HOME: home }),
    );
    expect(found.code, found.stderr).toBe(0);
    // With root.crt there, require checks the chain too (libpq): a wrong one fails.
    await fs.copyFile(join(work, 'wrong-ca.pem'), join(home, '.postgresql', 'root.crt'));
    const wrong = await runCli(['backup'], env({ PGSSLMODE: 'require', HOME: home }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/DATABASE_TLS_FAILED: .*root\.crt/);
  });

  it('sslmode and sslrootcert in DATABASE_URL, named as such when wrong', async () => {
    const url = (rootcert: string, mode = 'verify-full') =>
      `postgres://postgres:${PASSWORD}@localhost:${port}/tls_app?sslmode=${mode}&sslrootcert=${encodeURIComponent(rootcert)}&application_name=x`;
    const ok = await runCli(['backup', '--json'], {
      HOME: join(work, 'home'),
      DATABASE_URL: url(join(work, 'ca.pem')),
      BACKUP_DIR: join(work, 'backups'),
    });
    expect(ok.code, ok.stderr).toBe(0);
    const wrong = await runCli(['backup'], {
      HOME: join(work, 'home'),
      DATABASE_URL: url(join(work, 'wrong-ca.pem')),
      BACKUP_DIR: join(work, 'backups'),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/DATABASE_TLS_FAILED: .*sslrootcert in the connection string/);
    expectNoSecret(wrong);
    const bad = await runCli(['backup'], {
      HOME: join(work, 'home'),
      DATABASE_URL: url(join(work, 'ca.pem'), 'verify-fool'),
      BACKUP_DIR: join(work, 'backups'),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /sslmode in the connection string: "verify-fool" is not an SSL mode/,
    );
    expectNoSecret(bad);
  });
});
