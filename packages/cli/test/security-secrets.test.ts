import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { ageCipher, generateAgeIdentity } from '@lifeboat/core';
import {
  createDatabase,
  embeddedServer,
  sql,
  trackDatabase,
  uniqueName,
} from '@lifeboat/test-support/postgres';
import { freePort, startSmtpServer, type TestServer } from '@lifeboat/test-support/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './run-cli.js';

/**
 * Every command, with and without --json, against a real PostgreSQL (password auth), a real SMTP
 * server that requires a login, age encryption and a log file, with known secrets in every
 * secret setting; then every output, log line, e-mail, archive file and history record is
 * searched for each secret (and its URL-encoded and base64 forms). Success and failure paths.
 */
const server = embeddedServer; // embedded PostgreSQL 18, scram
const PG_SECRET = 'Pg-Url-S3cret/Value+42';
const PG_FIELD_SECRET = 'Pg-Field-S3cret-9931';
const SMTP_SECRET = 'Smtp-S3cret-Pass-7788';
const AWS_SECRET = 'Aws-S3cret-Key-wJalrXUtnFEMI-K7MDENG';
const role = `lb_secret_${Date.now().toString(36)}`;
let identity: string;
let work: string;
let db: string;
let mail: TestServer;
let env: Record<string, string>;
const outputs: { what: string; text: string }[] = [];
const mails: string[] = [];

const forms = (secret: string) => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64'),
];
const secrets = () => [
  ...forms(PG_SECRET),
  ...forms(PG_FIELD_SECRET),
  ...forms(SMTP_SECRET),
  ...forms(AWS_SECRET),
  identity,
  identity.slice('AGE-SECRET-KEY-1'.length),
];

async function run(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, { ...env, ...extra });
  outputs.push({ what: `${args.join(' ')} (stdout)`, text: r.stdout });
  outputs.push({ what: `${args.join(' ')} (stderr)`, text: r.stderr });
  return r;
}
const json = (r: CliResult) => JSON.parse(r.stdout);

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'secrets');
  await sql(
    server,
    'postgres',
    `CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${PG_SECRET.replaceAll("'", "''")}'`,
  );
  await sql(
    server,
    db,
    `CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
     INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 500) g;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-secrets-'));
  const key = await generateAgeIdentity();
  identity = key.identity;
  await fs.writeFile(join(work, 'age-key.txt'), `${identity}\n`, { mode: 0o600 });
  mail = await startSmtpServer({
    authOptional: false,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === SMTP_SECRET)
        callback(null, { user: 'mailer' });
      else callback(new Error(`Invalid username or password for ${auth.username}`));
    },
  });
  env = {
    DATABASE_URL: `postgres://${role}:${encodeURIComponent(PG_SECRET)}@127.0.0.1:${server.port}/${db}`,
    POSTGRES_PASSWORD: PG_FIELD_SECRET,
    BACKUP_DIR: join(work, 'backups'),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(mail.port),
    SMTP_USER: 'mailer',
    SMTP_PASS: SMTP_SECRET,
    // This server offers no STARTTLS; with a user, TLS is otherwise required.
    SMTP_REQUIRE_TLS: 'false',
    SMTP_FROM: 'backups@example.com',
    ADMIN_EMAIL: 'ops@example.com',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID',
    AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    BACKUP_ENCRYPTION_RECIPIENTS: key.recipient,
    BACKUP_ENCRYPTION_IDENTITY_FILE: join(work, 'age-key.txt'),
    LOG_FILE: join(work, 'logs', 'lifeboat.log'),
    HEALTH_MIN_FREE_BYTES: '1',
  };
});
afterAll(async () => {
  await mail?.close();
  await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => {});
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('no secret appears anywhere', () => {
  it('runs every command on the success path', async () => {
    const backup = await run(['backup', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const b = json(backup);
    expect(b.encrypted).toBe(true);
    expect(b.notifications).toEqual([{ notifier: 'smtp', ok: true }]);
    expect((await run(['backup'])).code).toBe(0);
    for (const args of [
      ['list'],
      ['verify'],
      ['status'],
      ['report', '--days', '2'],
      ['prune', '--dry-run'],
      ['notify-test'],
    ]) {
      const plain = await run(args);
      expect(plain.code, `${args.join(' ')}: ${plain.stderr}`).toBe(0);
      const doc = await run([...args, '--json']);
      expect(doc.code, `${args.join(' ')} --json: ${doc.stderr}`).toBe(0);
      json(doc);
    }
    for (const args of [['verify', 'latest', '--deep'], ['health'], ['audit']]) {
      const plain = await run(args);
      const doc = await run([...args, '--json']);
      json(doc);
      if (args[0] === 'verify') expect([plain.code, doc.code]).toEqual([0, 0]);
      if (args[0] === 'health') expect(json(doc).status).not.toBe('CRITICAL');
    }
    const target = uniqueName('secrets_restored');
    trackDatabase(server, target);
    const restore = await run(['restore', 'latest', '--target-database', target, '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    const restoreSide = await run([
      'restore',
      'latest',
      '--in-place',
      '--tables',
      'users',
      '--as-suffix',
      '_copy',
    ]);
    expect(restoreSide.code, restoreSide.stderr).toBe(0);
    // Three backups' and one test's mails arrived, each after a login with the secret.
    expect(mail.received.length).toBeGreaterThanOrEqual(4);
  });

  it('runs the failure paths: wrong SMTP password, database down, wrong identity', async () => {
    const wrongMail = { SMTP_PASS: `${SMTP_SECRET}-wrong` };
    const n1 = await run(['notify-test', '--json'], wrongMail);
    expect(n1.code).toBe(1);
    expect((await run(['notify-test'], wrongMail)).code).toBe(1);
    const b1 = await run(['backup', '--json'], wrongMail);
    expect(b1.code, b1.stderr).toBe(0);
    expect(json(b1).notifications[0].ok).toBe(false);

    const down = await freePort();
    const dbDown = {
      DATABASE_URL: `postgres://${role}:${encodeURIComponent(PG_SECRET)}@127.0.0.1:${down}/${db}`,
    };
    for (const args of [
      ['backup'],
      ['backup', '--json'],
      ['health', '--json'],
      ['health'],
      ['verify', '--deep', '--json'],
      ['restore', 'latest', '--in-place', '--tables', 'users', '--json'],
    ]) {
      const r = await run(args, dbDown);
      expect(r.code, `${args.join(' ')} with the database down`).not.toBe(0);
    }
    const badPassword = {
      DATABASE_URL: `postgres://${role}:${encodeURIComponent(`${PG_SECRET}x`)}@127.0.0.1:${server.port}/${db}`,
    };
    const auth = await run(['backup', '--json'], badPassword);
    expect(json(auth).error.code).toBe('DATABASE_AUTH_FAILED');
    const otherKey = await generateAgeIdentity();
    await fs.writeFile(join(work, 'other-key.txt'), `${otherKey.identity}\n`, { mode: 0o600 });
    const wrongKey = await run(['verify', '--json'], {
      BACKUP_ENCRYPTION_IDENTITY_FILE: join(work, 'other-key.txt'),
    });
    expect(wrongKey.code).toBe(1);
    outputs.push({ what: 'other identity (not a configured secret)', text: '' });
  });

  it('searches every output, log, e-mail, archive file and history record', async () => {
    for (const m of mail.received)
      mails.push(JSON.stringify({ ...m.mail, attachments: undefined }));
    const texts = [...outputs];
    for (const [i, m] of mails.entries()) texts.push({ what: `e-mail ${i}`, text: m });
    const logDir = join(work, 'logs');
    for (const name of await fs.readdir(logDir))
      texts.push({ what: `log ${name}`, text: await fs.readFile(join(logDir, name), 'utf8') });
    const history = join(env.BACKUP_DIR!, '.lifeboat', 'history');
    for (const name of await fs.readdir(history))
      texts.push({ what: `history ${name}`, text: await fs.readFile(join(history, name), 'utf8') });
    // Every file of an archive: decrypted with the identity, extracted with tar.
    const [archive] = (await fs.readdir(env.BACKUP_DIR!)).filter((n) => n.endsWith('.tar.gz.age'));
    const plain = join(work, 'archive.tar.gz');
    const cipher = ageCipher({ identities: [identity] });
    await pipeline(
      cipher.decrypt(createReadStream(join(env.BACKUP_DIR!, archive!))),
      (await fs.open(plain, 'w')).createWriteStream(),
    );
    // Every archive index (the manifest beside each archive), decrypted the same way.
    const indexDir = join(env.BACKUP_DIR!, '.lifeboat', 'index');
    const indexes = await fs.readdir(indexDir);
    expect(indexes.length).toBeGreaterThan(0);
    for (const name of indexes) {
      expect(name.endsWith('.json.age'), name).toBe(true);
      const decrypted = await buffer(cipher.decrypt(createReadStream(join(indexDir, name))));
      texts.push({ what: `index ${name}`, text: decrypted.toString('utf8') });
    }
    const extracted = join(work, 'extracted');
    await fs.mkdir(extracted);
    execFileSync('tar', ['-xzf', plain, '-C', extracted]);
    const walk = async (dir: string): Promise<string[]> =>
      (
        await Promise.all(
          (
            await fs.readdir(dir, { withFileTypes: true })
          ).map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])),
        )
      ).flat();
    const files = await walk(extracted);
    expect(files.map((f) => f.slice(extracted.length + 1))).toEqual(
      expect.arrayContaining(['manifest.json', 'BACKUP_INFO.txt', 'database/restore.psql']),
    );
    for (const file of files)
      texts.push({
        what: `archive ${file.slice(extracted.length + 1)}`,
        text: await fs.readFile(file, 'latin1'),
      });

    // The search has material: many runs, the mails, log lines, history records, the archive.
    expect(outputs.length).toBeGreaterThan(50);
    expect(mails.length).toBeGreaterThanOrEqual(4);
    expect(
      texts
        .filter((t) => t.what.startsWith('log'))
        .map((t) => t.text)
        .join('').length,
    ).toBeGreaterThan(1000);
    expect(texts.filter((t) => t.what.startsWith('history')).length).toBeGreaterThan(5);
    // The outputs did talk about the things the secrets belong to.
    const all = texts.map((t) => t.text).join('\n');
    expect(all).toContain(`127.0.0.1:${server.port}`);
    expect(all).toContain(`127.0.0.1:${mail.port}`);
    expect(all).toMatch(/DATABASE_AUTH_FAILED|password authentication failed/);

    const leaks: string[] = [];
    for (const { what, text } of texts)
      for (const secret of secrets())
        if (text.includes(secret)) leaks.push(`${what} holds ${secret.slice(0, 6)}…`);
    expect(leaks).toEqual([]);
  });
});
