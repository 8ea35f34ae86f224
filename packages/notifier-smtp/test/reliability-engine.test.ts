import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Source } from '@lifeboat/core';
import { smtpNotifier } from '@lifeboat/notifier-smtp';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import { localStorage } from '@lifeboat/storage-local';
import { freePort, smtpError, startSmtpServer } from '@lifeboat/test-support/smtp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * A real backup (config files to a real folder) with a mail server that is down or refuses:
 * the backup is stored all the same, and the failed notification is reported in the result,
 * the events, the history and `status`.
 */
let work: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-mail-faults-'));
  await fs.writeFile(join(work, 'nginx.prod.conf'), 'server {}\n');
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await fs.rm(work, { recursive: true, force: true });
});

function engineWith(port: number, sources?: Source[]) {
  const notifier = smtpNotifier({
    host: '127.0.0.1',
    port,
    from: 'backups@example.com',
    to: 'ops@example.com',
    retries: 2,
    retryDelayMs: 10,
    timeoutMs: 3000,
  });
  const engine = createEngine({
    sources: sources ?? [configFilesSource({ files: [join(work, 'nginx.prod.conf')] })],
    storage: localStorage({ dir: join(work, 'backups') }),
    notifiers: [notifier],
  });
  closers.push(() => engine.close());
  const failed: { kind: string; code: string }[] = [];
  engine.events.on('notify:failed', (e) => failed.push({ kind: e.kind, code: e.error.code }));
  return { engine, failed };
}

describe('the mail server fails during a real backup', () => {
  it('is down (nothing listens): the backup is stored; the failure is reported everywhere', async () => {
    const port = await freePort();
    const { engine, failed } = engineWith(port);
    const result = await engine.backup();
    expect(result.notifications).toEqual([
      { notifier: 'smtp', ok: false, error: expect.stringContaining(`127.0.0.1:${port}`) },
    ]);
    expect(result.notifications[0]!.error).toMatch(/ECONNREFUSED/);
    expect(failed).toEqual([{ kind: 'backup:succeeded', code: 'NOTIFY_FAILED' }]);
    // Stored and verifiable.
    expect((await engine.list()).map((a) => a.file)).toEqual([result.file]);
    expect((await engine.verify(result.id)).ok).toBe(true);
    // History and status.
    const backups = (await engine.history()).filter((r) => r.kind === 'backup');
    expect(backups[0]).toMatchObject({
      ok: true,
      notifications: [{ notifier: 'smtp', ok: false }],
    });
    const status = await engine.status();
    expect(status.lastSuccess?.id).toBe(result.id);
    expect(status.notificationFailures).toEqual([
      expect.objectContaining({ notifier: 'smtp', error: expect.stringMatching(/ECONNREFUSED/) }),
    ]);
    // Health says the mail server is a warning, not a failed backup.
    const health = await engine.health();
    expect(health.checks.find((c) => c.name === 'mail')?.status).toBe('warning');
  });

  it('answers 550 for the recipient: the backup is stored; the refusal is reported', async () => {
    const server = await startSmtpServer(
      {},
      { rcpt: (address) => smtpError(550, `No such user ${address}`) },
    );
    closers.push(() => server.close());
    const { engine, failed } = engineWith(server.port);
    const result = await engine.backup();
    expect(result.notifications).toHaveLength(1);
    expect(result.notifications[0]).toMatchObject({ notifier: 'smtp', ok: false });
    expect(result.notifications[0]!.error).toContain('550 No such user ops@example.com');
    expect(failed).toEqual([{ kind: 'backup:succeeded', code: 'NOTIFY_FAILED' }]);
    expect(server.received).toEqual([]);
    // A permanent refusal is not retried.
    expect(server.counts.rcpt).toBe(1);
    const [record] = (await engine.history()).filter((r) => r.kind === 'backup');
    expect(record?.ok).toBe(true);
    expect(record?.notifications?.[0]?.error).toContain('550');
    expect((await engine.status()).notificationFailures).toHaveLength(1);
  });

  it('a failed backup with the mail server down: the backup error stays the error, both are recorded', async () => {
    const port = await freePort();
    const { engine, failed } = engineWith(port, [
      configFilesSource({ files: [join(work, 'missing.conf')] }),
    ]);
    const error = await engine.backup().catch((e) => e);
    expect(error.code).toBe('FILE_MISSING');
    expect(failed).toEqual([{ kind: 'backup:failed', code: 'NOTIFY_FAILED' }]);
    const [record] = await engine.history();
    expect(record).toMatchObject({
      kind: 'backup',
      ok: false,
      error: { code: 'FILE_MISSING' },
      notifications: [{ notifier: 'smtp', ok: false }],
    });
    expect((await engine.status()).lastFailure?.code).toBe('FILE_MISSING');
  });
});
