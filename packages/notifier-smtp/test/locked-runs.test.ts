import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, createEngine } from '@lifeboat/core';
import { smtpNotifier } from '@lifeboat/notifier-smtp';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import { localStorage } from '@lifeboat/storage-local';
import { startSmtpServer } from '@lifeboat/test-support/smtp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * A lock held by someone else stops every backup. One refusal is normal (replicas of a host all
 * run the schedule; one does the job); three attempts in a row refused, with no backup between
 * them, mean no backup is being made: recorded, mailed, a health WARNING, shown by status.
 */
let work: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-locked-'));
  await fs.writeFile(join(work, 'nginx.prod.conf'), 'server {}\n');
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await fs.rm(work, { recursive: true, force: true });
});

const MINUTE = 60_000;

/** An engine backing up a config file to `backups/`, mailing through the test server. */
function engineAt(port: number, now: () => Date) {
  return createEngine({
    sources: [configFilesSource({ files: [join(work, 'nginx.prod.conf')] })],
    storage: localStorage({ dir: join(work, 'backups') }),
    notifiers: [
      smtpNotifier({
        host: '127.0.0.1',
        port,
        from: 'backups@example.com',
        to: 'ops@example.com',
        retries: 1,
        retryDelayMs: 10,
        timeoutMs: 5000,
      }),
    ],
    now,
  });
}

describe('backups refused for the lock', () => {
  it('three attempts in a row: recorded, mailed, health WARNING (and --alert mails), status shows it', async () => {
    const server = await startSmtpServer();
    closers.push(() => server.close());
    let t = Date.parse('2026-03-10T02:00:00Z');
    const dir = join(work, 'backups');
    const engine = engineAt(server.port, () => new Date(t));
    closers.push(() => engine.close());
    const good = await engine.backup();
    expect(server.received).toHaveLength(1);
    // Someone else takes the lock and keeps it (a live holder: never stale).
    const holder = localStorage({ dir });
    await holder.connect();
    const held = await acquireLock(holder, { waitMs: 0, staleMs: 3600_000, operation: 'backup' });
    closers.push(() => held.release());
    const refusals: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      t += 60 * MINUTE;
      const error = await engine.backup().catch((e: unknown) => e);
      refusals.push((error as { code: string }).code);
      if (attempt < 3) {
        // One or two refusals are not mailed, and health stays OK.
        expect(server.received).toHaveLength(1);
        expect((await engine.health()).checks.map((c) => c.name)).not.toContain('backup-lock');
      }
    }
    expect(refusals).toEqual(['LOCKED', 'LOCKED', 'LOCKED']);
    // The third is mailed as a failed backup that says why.
    expect(server.received).toHaveLength(2);
    const mail = server.received[1]!.mail;
    expect(mail.subject).toMatch(/fail/i);
    expect(mail.text).toContain('3 backups in a row were refused because the lock is held');
    // Every refusal is in the history; the last one with its notification.
    const refused = (await engine.history()).filter((r) => r.error?.code === 'LOCKED');
    expect(refused).toHaveLength(3);
    expect(refused[0]!.notifications).toEqual([{ notifier: 'smtp', ok: true }]);
    const status = await engine.status();
    expect(status.lockedInARow).toBe(3);
    // Refusals are not failed runs of the job: the last success and the rate are unchanged.
    expect(status.lastSuccess?.id).toBe(good.id);
    expect(status.lastFailure).toBeUndefined();
    const health = await engine.health({ alert: true });
    expect(health.status).toBe('WARNING');
    expect(health.checks.find((c) => c.name === 'backup-lock')).toMatchObject({
      status: 'warning',
      details: { code: 'LOCKED_RUNS', lockedInARow: 3 },
    });
    // health --alert mails the warning too.
    expect(server.received).toHaveLength(3);
    expect(server.received[2]!.mail.text).toContain('LOCKED_RUNS');
    // Once the lock is free a backup runs, and the row is over.
    await held.release();
    t += 60 * MINUTE;
    await engine.backup();
    expect((await engine.status()).lockedInARow).toBe(0);
    expect((await engine.health()).checks.map((c) => c.name)).not.toContain('backup-lock');
  });

  it('replicas refused during the run that does the job are not a stuck lock', async () => {
    const server = await startSmtpServer();
    closers.push(() => server.close());
    const dir = join(work, 'backups');
    const t = Date.parse('2026-03-10T02:00:00Z');
    const replica = () => engineAt(server.port, () => new Date(t));
    const holder = localStorage({ dir });
    await holder.connect();
    const held = await acquireLock(holder, { waitMs: 0, staleMs: 3600_000, operation: 'backup' });
    // Four replicas start the same schedule while one run holds the lock.
    for (let i = 0; i < 4; i++) {
      const engine = replica();
      await expect(engine.backup()).rejects.toMatchObject({ code: 'LOCKED' });
      await engine.close();
    }
    await held.release();
    expect(server.received).toHaveLength(0);
    const engine = replica();
    closers.push(() => engine.close());
    expect((await engine.status()).lockedInARow).toBe(1);
  });
});
