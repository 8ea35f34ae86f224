// `pnpm demo`: the whole job on a machine with no database installed. It starts an embedded
// PostgreSQL and an in-process SMTP server, loads Smart AI Hub-like data, writes config files and
// an ssl/ folder, then runs the real `lifeboat` command: backup → list → verify --deep →
// restore into a new database → compares row counts. It prints where everything is.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../lib/dataset.mjs';
import { startEmbeddedPostgres, startMailbox } from '../lib/servers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'packages/cli/dist/bin.js');
const scale = Number(process.env.DEMO_SCALE ?? 0.25);
const work = resolve(process.env.DEMO_DIR ?? join(root, '.demo'));
const began = performance.now();
const say = (text) => process.stdout.write(`${text}\n`);
const step = (n, text) => say(`\n[${n}] ${text}`);

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'app', 'ssl'), { recursive: true });
mkdirSync(join(work, 'mail'), { recursive: true });

let pg;
let mailbox;
let failed = false;
try {
  step(1, 'Starting an embedded PostgreSQL 18 and an in-process SMTP server');
  pg = await startEmbeddedPostgres();
  mailbox = await startMailbox(join(work, 'mail'));
  say(`    postgres on 127.0.0.1:${pg.port}, smtp on 127.0.0.1:${mailbox.port}`);

  step(2, `Loading the Smart AI Hub dataset (scale ${scale})`);
  await pg.createDatabase('smart_ai_hub');
  const client = pg.client('smart_ai_hub');
  await client.connect();
  await loadDataset(client, scale);
  const counts = async (c) =>
    Object.fromEntries(
      await Promise.all(
        [
          'organizations',
          'users',
          'api_keys',
          'ai_models',
          'credit_transactions',
          'conversations',
          'messages',
          'audit_logs',
        ].map(async (t) => [
          t,
          Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n),
        ]),
      ),
    );
  const original = await counts(client);
  await client.end();
  say(
    `    ${Object.entries(original)
      .map(([t, n]) => `${t}=${n}`)
      .join(' ')}`,
  );

  step(3, 'Writing config files and an ssl/ folder');
  const app = join(work, 'app');
  writeFileSync(
    join(app, '.env.production'),
    'NODE_ENV=production\nJWT_SECRET=demo-jwt-secret-not-real\n',
    { mode: 0o600 },
  );
  writeFileSync(
    join(app, 'docker-compose.prod.yml'),
    'services:\n  api:\n    image: smart-ai-hub/api:latest\n',
  );
  writeFileSync(
    join(app, 'nginx.prod.conf'),
    'server {\n  listen 443 ssl;\n  ssl_certificate /etc/ssl/cert.pem;\n}\n',
  );
  writeFileSync(
    join(app, 'ssl', 'cert.pem'),
    '-----BEGIN CERTIFICATE-----\nMIIdemo\n-----END CERTIFICATE-----\n',
  );
  writeFileSync(
    join(app, 'ssl', 'privkey.pem'),
    '-----BEGIN PRIVATE KEY-----\nMIIdemo\n-----END PRIVATE KEY-----\n',
  );
  chmodSync(join(app, 'ssl', 'privkey.pem'), 0o600);

  const env = {
    ...process.env,
    DATABASE_URL: pg.url('smart_ai_hub'),
    BACKUP_DIR: join(work, 'backups'),
    CONFIG_FILES: ['.env.production', 'docker-compose.prod.yml', 'nginx.prod.conf']
      .map((f) => join(app, f))
      .join(','),
    SSL_DIR: join(app, 'ssl'),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(mailbox.port),
    SMTP_SECURE: 'false',
    SMTP_FROM: 'lifeboat@demo.local',
    ADMIN_EMAIL: 'ops@demo.local',
    LOG_FILE: join(work, 'logs', 'lifeboat.log'),
  };
  // Asynchronous on purpose: the SMTP server runs in this process and must keep answering.
  const exec = (args) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const lifeboat = async (args, { json = true } = {}) => {
    say(`    $ lifeboat ${args.join(' ')}`);
    const r = await exec([...args, ...(json ? ['--json'] : [])]);
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      process.stdout.write(r.stdout);
      throw new Error(`lifeboat ${args.join(' ')} exited with ${r.status}`);
    }
    return json ? JSON.parse(r.stdout) : r.stdout;
  };

  step(4, 'Backup');
  const backup = await lifeboat(['backup']);
  say(
    `    stored ${backup.file}: ${(backup.bytes / 1024 / 1024).toFixed(1)} MiB in ${(backup.durationMs / 1000).toFixed(1)} s, ${backup.tables.length} tables, ${backup.files} files`,
  );

  step(5, 'List');
  for (const a of await lifeboat(['list'])) say(`    ${a.file}  ${a.bytes} bytes  ${a.createdAt}`);

  step(6, 'Verify --deep (restores into a scratch database and compares)');
  const verify = await lifeboat(['verify', 'latest', '--deep']);
  say(
    `    ${verify.ok ? 'OK' : 'PROBLEMS'}: ${verify.entries} entries checked, ${verify.problems.length} problems`,
  );
  if (!verify.ok) throw new Error('verification failed');

  step(7, 'Restore into a new database, and the config files into a folder');
  await lifeboat([
    'restore',
    'latest',
    '--target-database',
    'smart_ai_hub_restored',
    '--only',
    'database',
  ]);
  await lifeboat([
    'restore',
    'latest',
    '--only',
    'config',
    '--config-dir',
    join(work, 'restored-config'),
  ]);

  step(8, 'Comparing row counts');
  const check = pg.client('smart_ai_hub_restored');
  await check.connect();
  const restored = await counts(check);
  await check.end();
  let same = true;
  for (const [table, n] of Object.entries(original)) {
    const ok = restored[table] === n;
    same &&= ok;
    say(`    ${ok ? '✓' : '✗'} ${table.padEnd(20)} ${String(n).padStart(8)} → ${restored[table]}`);
  }
  if (!same) throw new Error('row counts differ after restore');

  step(9, 'Status and health');
  process.stdout.write((await lifeboat(['status'], { json: false })).replace(/^/gm, '    '));
  const health = await exec(['health']);
  process.stdout.write(health.stdout.replace(/^/gm, '    '));

  say(`\nDone in ${((performance.now() - began) / 1000).toFixed(1)} s.`);
  say(`  archive:      ${join(work, 'backups', backup.file)}`);
  say(`  e-mails:      ${mailbox.saved.join(', ') || 'none'}`);
  say(
    `  restored:     database smart_ai_hub_restored, config files in ${join(work, 'restored-config')}`,
  );
  say(`  log:          ${env.LOG_FILE}`);
  say('\nPoint it at your own database:');
  say('  DATABASE_URL=postgres://user:pass@host:5432/db BACKUP_DIR=/backups \\');
  say('  CONFIG_FILES=.env.production,docker-compose.prod.yml,nginx.prod.conf SSL_DIR=./ssl \\');
  say('  pnpm --silent lifeboat backup');
} catch (error) {
  failed = true;
  process.stderr.write(`\ndemo failed: ${error.message}\n`);
} finally {
  await mailbox?.stop();
  await pg?.stop();
}
process.exitCode = failed ? 1 : 0;
