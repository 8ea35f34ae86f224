import { createHmac } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Receiver, startReceiver } from '@lifeboat/test-support/http';
import { startSmtpServer } from '@lifeboat/test-support/smtp';
import parse from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './run-cli.js';

/**
 * The monitoring channels through the built command: HEARTBEAT_URL, WEBHOOK_URL/WEBHOOK_SECRET,
 * NOTIFY_ON, METRICS_FILE and `lifeboat metrics`, against real HTTP receivers; the tokens in
 * the URLs never appear in any output or the log file.
 */
const HB_TOKEN = '7c1e9a44-2b6d-4f0e-9d3c-5a8b7e6f1d20';
const HOOK_TOKEN = 'B07HQZXK2mN4pQ8rT6vW9yZ';
const SECRET = 'whsec-cli-Secret-5511';
let work: string;
let env: Record<string, string>;
let hb: Receiver;
let hook: Receiver;
const outputs: string[] = [];

async function run(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, { ...env, ...extra });
  outputs.push(r.stdout, r.stderr);
  return r;
}
type Parsed = ReturnType<typeof parse>;
const value = (families: Parsed, name: string, labels: Record<string, string> = {}) => {
  const sample = families
    .find((f) => f.name === name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
};
const paths = (r: Receiver) => r.requests.map((q) => new URL(q.url, 'http://x').pathname);

beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-monitoring-'));
  await fs.writeFile(join(work, 'nginx.prod.conf'), 'server {}\n');
  hb = await startReceiver();
  hook = await startReceiver();
  env = {
    BACKUP_DIR: join(work, 'backups'),
    CONFIG_FILES: join(work, 'nginx.prod.conf'),
    HEARTBEAT_URL: `${hb.url}/ping/${HB_TOKEN}`,
    WEBHOOK_URL: `${hook.url}/services/T01/${HOOK_TOKEN}`,
    WEBHOOK_SECRET: SECRET,
    METRICS_FILE: join(work, 'lifeboat.prom'),
    LOG_FILE: join(work, 'logs', 'lifeboat.log'),
  };
});
afterEach(async () => {
  await hb.close();
  await hook.close();
  await fs.rm(work, { recursive: true, force: true });
});

describe('lifeboat monitoring channels', () => {
  it('a good then a failed backup: heartbeats, a signed webhook, METRICS_FILE matching status --json', async () => {
    const good = await run(['backup', '--json']);
    expect(good.code, good.stderr).toBe(0);
    const result = JSON.parse(good.stdout);
    expect(result.notifications).toEqual([{ notifier: 'webhook', ok: true }]);
    expect(paths(hb)).toEqual([`/ping/${HB_TOKEN}/start`, `/ping/${HB_TOKEN}`]);
    expect(hb.requests[1]!.body).toContain(`stored ${result.file}`);
    const post = hook.requests[0]!;
    const timestamp = String(post.headers['x-lifeboat-timestamp']);
    expect(post.headers['x-lifeboat-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${post.body}`).digest('hex')}`,
    );
    expect(JSON.parse(post.body)).toMatchObject({
      event: 'backup:succeeded',
      backup: { file: result.file },
    });

    const file = await fs.readFile(env.METRICS_FILE!, 'utf8');
    expect((await fs.stat(env.METRICS_FILE!)).mode & 0o777).toBe(0o644);
    const families = parse(file);
    const status = JSON.parse((await run(['status', '--json'])).stdout);
    expect(value(families, 'lifeboat_archives')).toBe(status.archives.count);
    expect(value(families, 'lifeboat_archives_size_bytes')).toBe(status.archives.totalBytes);
    expect(value(families, 'lifeboat_last_backup_size_bytes')).toBe(status.lastSuccess.bytes);
    expect(value(families, 'lifeboat_last_backup_duration_seconds')).toBe(
      status.lastSuccess.durationMs / 1000,
    );
    expect(value(families, 'lifeboat_last_success_timestamp_seconds', { kind: 'backup' })).toBe(
      Date.parse(status.lastSuccess.at) / 1000,
    );
    expect(value(families, 'lifeboat_last_backup_files')).toBe(1);
    // No temporary file is left beside it (the textfile collector reads every *.prom).
    expect((await fs.readdir(work)).filter((n) => n.includes('lifeboat.prom'))).toEqual([
      'lifeboat.prom',
    ]);

    // `lifeboat metrics` prints the same (but for the ages and the free space, which move).
    const printed = await run(['metrics']);
    expect(printed.code).toBe(0);
    const drop = (t: string) =>
      t
        .split('\n')
        .filter((l) => !/_age_seconds|_free_bytes/.test(l))
        .join('\n');
    expect(drop(printed.stdout.trim())).toBe(drop(file.trim()));

    await fs.rm(join(work, 'nginx.prod.conf'));
    const bad = await run(['backup', '--json']);
    expect(bad.code).toBe(1);
    // The missing file is found before the backup starts (every source checks first): no
    // start ping, only the failure.
    expect(paths(hb).slice(2)).toEqual([`/ping/${HB_TOKEN}/fail`]);
    expect(hb.requests[2]!.body).toContain('FAILED FILE_MISSING');
    expect(hook.requests.map((r) => r.headers['x-lifeboat-event'])).toEqual([
      'backup:succeeded',
      'backup:failed',
    ]);
    const after = parse(await fs.readFile(env.METRICS_FILE!, 'utf8'));
    expect(value(after, 'lifeboat_last_run_success', { kind: 'backup' })).toBe(0);
    expect(value(after, 'lifeboat_last_run_success', { kind: 'backup' })).not.toBe(
      value(families, 'lifeboat_last_run_success', { kind: 'backup' }),
    );

    const log = await fs.readFile(env.LOG_FILE!, 'utf8');
    for (const text of [...outputs, log]) {
      expect(text).not.toContain(HB_TOKEN);
      expect(text).not.toContain(HOOK_TOKEN);
      expect(text).not.toContain(SECRET);
    }
  });

  it('NOTIFY_ON=failure keeps successes quiet; a dead receiver never fails the backup', async () => {
    const quiet = await run(['backup', '--json'], { WEBHOOK_NOTIFY_ON: 'failure' });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(JSON.parse(quiet.stdout).notifications).toEqual([]);
    expect(hook.requests).toHaveLength(0);

    const port = hook.port;
    await hook.close();
    const dead = await run(['backup', '--json'], {
      WEBHOOK_URL: `http://127.0.0.1:${port}/services/T01/${HOOK_TOKEN}`,
      HEARTBEAT_URL: `http://127.0.0.1:${port}/ping/${HB_TOKEN}`,
    });
    expect(dead.code, dead.stderr).toBe(0);
    const doc = JSON.parse(dead.stdout);
    expect(doc.notifications[0]).toMatchObject({ notifier: 'webhook', ok: false });
    expect(doc.notifications[0].error).toContain('ECONNREFUSED');
    expect(dead.stderr).toContain('HEARTBEAT_FAILED');
    for (const text of outputs) {
      expect(text).not.toContain(HB_TOKEN);
      expect(text).not.toContain(HOOK_TOKEN);
    }
    hook = await startReceiver(); // for afterEach
  });

  it('an alert e-mail about a dead webhook names it without its token', async () => {
    const mail = await startSmtpServer();
    try {
      const smtp = {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(mail.port),
        SMTP_FROM: 'backups@example.com',
        ADMIN_EMAIL: 'ops@example.com',
      };
      expect((await run(['backup'], smtp)).code).toBe(0);
      const port = hook.port;
      await hook.close();
      const health = await run(['health', '--alert', '--json'], {
        ...smtp,
        WEBHOOK_URL: `http://127.0.0.1:${port}/services/T01/${HOOK_TOKEN}`,
      });
      expect(health.code).toBe(1); // WARNING: the backups are fine, one channel is not
      const alert = mail.received.find((m) => /HEALTH/.test(m.mail.subject ?? ''));
      expect(alert, mail.received.map((m) => m.mail.subject).join(', ')).toBeDefined();
      const text = `${alert!.mail.text}\n${alert!.mail.html}`;
      expect(text).toContain('webhook');
      expect(text).toContain('ECONNREFUSED');
      for (const m of mail.received) {
        const all = JSON.stringify({ ...m.mail, attachments: undefined });
        expect(all).not.toContain(HOOK_TOKEN);
        expect(all).not.toContain(HB_TOKEN);
      }
      for (const text of outputs) expect(text).not.toContain(HOOK_TOKEN);
      hook = await startReceiver(); // for afterEach
    } finally {
      await mail.close();
    }
  });

  it('notify-test, health and audit cover the webhook and the heartbeat', async () => {
    const test = await run(['notify-test', '--json']);
    expect(test.code, test.stdout).toBe(0);
    expect(JSON.parse(test.stdout).notifiers).toEqual([
      { notifier: 'webhook', ok: true },
      { notifier: 'heartbeat', ok: true },
    ]);
    expect(hook.requests[0]!.headers['x-lifeboat-event']).toBe('test');
    // healthchecks.io's /log: recorded, the check's state unchanged.
    expect(paths(hb)).toEqual([`/ping/${HB_TOKEN}/log`]);

    await run(['backup']);
    const health = await run(['health', '--json']);
    const checks = JSON.parse(health.stdout).checks;
    expect(checks.find((c: { name: string }) => c.name === 'webhook')).toMatchObject({
      status: 'ok',
    });
    expect(checks.find((c: { name: string }) => c.name === 'heartbeat')).toMatchObject({
      status: 'ok',
    });

    const audit = await run(['audit', '--json'], { WEBHOOK_SECRET: '' });
    expect(audit.code).toBe(1);
    const findings = JSON.parse(audit.stdout).findings as { check: string; status: string }[];
    expect(findings.filter((f) => f.check === 'token-in-clear').map((f) => f.status)).toEqual([
      'finding',
      'finding',
    ]);
    expect(findings.find((f) => f.check === 'unsigned-webhook')?.status).toBe('finding');
    for (const text of outputs) {
      expect(text).not.toContain(HB_TOKEN);
      expect(text).not.toContain(HOOK_TOKEN);
    }
  });
});
