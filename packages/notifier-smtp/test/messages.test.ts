import { Readable } from 'node:stream';
import type { HealthReport } from '@lifeboat/core';
import { sampleBackupResult as backupResult } from '@lifeboat/core/testing';
import { smtpNotifier } from '@lifeboat/notifier-smtp';
import { addresses, startSmtpServer, type TestServer } from '@lifeboat/test-support/smtp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Messages as they arrive at a real SMTP server, parsed back with mailparser.
let server: TestServer;

beforeAll(async () => {
  server = await startSmtpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.received.length = 0;
});

const notifierFor = (extra: Partial<Parameters<typeof smtpNotifier>[0]> = {}) =>
  smtpNotifier({
    host: '127.0.0.1',
    port: server.port,
    from: 'Lifeboat <lifeboat@example.com>',
    to: 'ops@example.com, cto@example.com',
    retryDelayMs: 10,
    ...extra,
  });

const only = () => {
  expect(server.received).toHaveLength(1);
  return server.received[0]!;
};

describe('backup:succeeded', () => {
  it('of an incomplete backup says so in the subject and lists what is missing', async () => {
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({
        incomplete: [
          {
            source: 'postgres',
            kind: 'object',
            name: 'sprocket (oid 20011)',
            reason: 'unknown kind',
          },
          {
            source: 'postgres',
            kind: 'view',
            name: 'public.needs_it',
            reason: 'depends on object sprocket',
          },
        ],
      }),
    });
    await notifier.close();
    const { mail } = only();
    expect(mail.subject).toContain('INCOMPLETE: 2 object(s) left out');
    for (const body of [mail.text ?? '', mail.html || '']) {
      // In the options' words; a host names its setting (the CLI: BACKUP_ALLOW_INCOMPLETE).
      expect(body).toContain('Not in this backup (allowIncomplete is set)');
      expect(body).toContain('sprocket (oid 20011)');
      expect(body).toContain('public.needs_it');
    }
  });

  it('arrives with subject, recipients, and the summary in text and HTML', async () => {
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:succeeded',
      result: { ...backupResult(), verification: { ok: true, deep: true } } as ReturnType<
        typeof backupResult
      >,
    });
    await notifier.close();
    const { mail, rcptTo, mailFrom } = only();

    expect(mail.subject).toBe(
      '[Lifeboat] SUCCESS: backup critical_backup_20250102_030405.tar.gz (1.5 MiB)',
    );
    expect(rcptTo).toEqual(['ops@example.com', 'cto@example.com']);
    expect(addresses(mail.to)).toEqual(['ops@example.com', 'cto@example.com']);
    expect(mailFrom).toBe('lifeboat@example.com');
    expect(addresses(mail.from)).toEqual(['lifeboat@example.com']);

    const text = mail.text ?? '';
    const html = mail.html || '';
    for (const body of [text, html]) {
      expect(body).toContain('critical_backup_20250102_030405.tar.gz');
      expect(body).toContain('1.5 MiB');
      expect(body).toContain('1,572,864 bytes');
      expect(body).toContain('1 min 5 s');
      expect(body).toContain('public.users');
      expect(body).toContain('1,234');
      expect(body).toContain('public.orders');
      expect(body).toContain('56,789');
      expect(body).toContain('2 (58,023 rows)');
      expect(body).toContain('local /var/backups/lifeboat');
      expect(body).toContain('TABLE_EMPTY: public.audit has no rows');
      expect(body).toContain('passed (deep)');
      expect(body).toContain('not attached: attaching the archive is turned off (attachArchive)');
    }
    expect(text).toMatch(/Encrypted:\s+yes/);
    expect(text).toMatch(/Files:\s+4/);
    // Row counts line up in a column in the text body.
    expect(text).toMatch(/public\.users\s+1,234\n/);
    expect(html).toMatch(/<th[^>]*>Encrypted<\/th><td[^>]*>yes<\/td>/);
    expect(html).toMatch(/<td[^>]*>public\.orders<\/td><td[^>]*>56,789<\/td>/);
    expect(mail.attachments).toHaveLength(0);
  });

  it('says loudly when the archive is not encrypted and when verification failed', async () => {
    const notifier = notifierFor();
    const result = {
      ...backupResult({ encrypted: false, warnings: [] }),
      verification: {
        ok: false,
        problems: [{ code: 'ENTRY_MISMATCH', message: 'database/public.users.csv differs' }],
      },
    };
    await notifier.notify({ kind: 'backup:succeeded', result });
    const { mail } = only();
    expect(mail.subject).toContain('verification FAILED');
    expect(mail.text).toMatch(/Encrypted:\s+NO/);
    expect(mail.text).toContain('FAILED (quick, 1 problem)');
    expect(mail.text).toContain('ENTRY_MISMATCH: database/public.users.csv differs');
    expect(mail.text).not.toContain('Warnings');
  });

  it('escapes hostile table names in the HTML and keeps them readable in the text', async () => {
    const hostile = '<script>alert("x")</script> & <b>co</b>';
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({
        tables: [{ name: hostile, rows: 1 }],
        warnings: [{ code: 'ODD_NAME', message: `table ${hostile} has an odd name` }],
      }),
    });
    const { mail } = only();
    const html = mail.html || '';
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>co</b>');
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;',
    );
    expect(mail.text).toContain(hostile);
  });
});

describe('backup:failed', () => {
  it('names the error code, the message and what to do', async () => {
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:failed',
      error: {
        code: 'DATABASE_UNREACHABLE',
        message: 'The database cannot be reached: connect ECONNREFUSED 10.0.0.5:5432',
        hint: 'Check host, port and that the server runs.',
      },
      at: new Date('2025-01-02T03:04:05Z'),
      storage: 'local /var/backups/lifeboat',
    });
    const { mail } = only();
    expect(mail.subject).toBe('[Lifeboat] FAILURE: backup failed (DATABASE_UNREACHABLE)');
    for (const body of [mail.text ?? '', mail.html || '']) {
      expect(body).toContain('DATABASE_UNREACHABLE');
      expect(body).toContain('connect ECONNREFUSED 10.0.0.5:5432');
      expect(body).toContain('Check host, port and that the server runs.');
      expect(body).toContain('2025-01-02T03:04:05.000Z');
      expect(body).toContain('local /var/backups/lifeboat');
    }
    expect(mail.text).toMatch(/What to do:\s+Check host/);
  });

  it('keeps a newline in the error code out of the subject header', async () => {
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:failed',
      error: { code: 'X\r\nBcc: victim@example.com', message: 'm', hint: 'h' },
      at: new Date(),
      storage: 's',
    });
    const { mail, rcptTo } = only();
    expect(mail.subject).toBe('[Lifeboat] FAILURE: backup failed (X Bcc: victim@example.com)');
    expect(mail.bcc).toBeUndefined();
    expect(rcptTo).not.toContain('victim@example.com');
  });

  it('removes passwords in connection strings from the body', async () => {
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:failed',
      error: {
        code: 'DATABASE_FAILED',
        message: 'failed for postgres://app:hunter2secret@db/app',
        hint: 'h',
      },
      at: new Date(),
      storage: 's',
    });
    const { mail } = only();
    expect(mail.text).not.toContain('hunter2secret');
    expect(mail.text).toContain('postgres://app:***@db/app');
  });
});

describe('health:alert and test', () => {
  it('lists each check with its status and message', async () => {
    const report: HealthReport = {
      status: 'CRITICAL',
      checkedAt: '2025-01-02T03:04:05.000Z',
      checks: [
        { name: 'database', status: 'ok', message: 'PostgreSQL 16.2 answers' },
        {
          name: 'last-backup',
          status: 'critical',
          message: 'The last success is 49 hours old (limit 25)',
        },
        { name: 'free-space', status: 'warning', message: '0.8 GiB free (minimum 1 GiB)' },
      ],
    };
    const notifier = notifierFor();
    await notifier.notify({ kind: 'health:alert', report });
    const { mail } = only();
    expect(mail.subject).toBe('[Lifeboat] HEALTH CRITICAL: 2 of 3 checks need attention');
    expect(mail.text).toMatch(/database\s+OK\s+PostgreSQL 16.2 answers/);
    expect(mail.text).toMatch(
      /last-backup\s+CRITICAL\s+The last success is 49 hours old \(limit 25\)/,
    );
    expect(mail.text).toMatch(/free-space\s+WARNING\s+0.8 GiB free/);
    expect(mail.html).toMatch(
      /<td[^>]*>last-backup<\/td><td[^>]*>CRITICAL<\/td><td[^>]*>The last success is 49 hours old/,
    );
  });

  it('sends a test message with a custom prefix', async () => {
    const notifier = notifierFor({ subjectPrefix: '[prod-eu]' });
    await notifier.notify({ kind: 'test', at: new Date('2025-01-02T03:04:05Z') });
    const { mail } = only();
    expect(mail.subject).toBe('[prod-eu] TEST: notification test message');
    expect(mail.text).toContain('test message from Lifeboat');
    expect(mail.html).toContain('2025-01-02T03:04:05.000Z');
  });
});

describe('archive attachment', () => {
  const archive = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
  const opener = () =>
    vi.fn(async () => Readable.from([archive.subarray(0, 20_000), archive.subarray(20_000)]));

  it('is not attached unless asked, even when offered', async () => {
    const attachment = opener();
    const notifier = notifierFor();
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({ bytes: archive.length }),
      attachment,
    });
    const { mail } = only();
    expect(mail.attachments).toHaveLength(0);
    expect(attachment).not.toHaveBeenCalled();
    expect(mail.text).toContain(
      'not attached: attaching the archive is turned off (attachArchive)',
    );
  });

  it('is attached byte for byte when asked and below the limit', async () => {
    const attachment = opener();
    const notifier = notifierFor({ attachArchive: true, attachMaxBytes: archive.length });
    const result = backupResult({ bytes: archive.length });
    await notifier.notify({ kind: 'backup:succeeded', result, attachment });
    const { mail } = only();
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.filename).toBe(result.file);
    expect(Buffer.compare(mail.attachments[0]!.content, archive)).toBe(0);
    expect(mail.text).toContain(`${result.file} is attached`);
    expect(attachment).toHaveBeenCalledTimes(1);
  });

  it('is not attached above the limit, and the body says why', async () => {
    const attachment = opener();
    const notifier = notifierFor({ attachArchive: true, attachMaxBytes: archive.length - 1 });
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({ bytes: archive.length }),
      attachment,
    });
    const { mail } = only();
    expect(mail.attachments).toHaveLength(0);
    expect(attachment).not.toHaveBeenCalled();
    expect(mail.text).toContain(
      'not attached: the archive (48.8 KiB) is larger than the attachment limit of 48.8 KiB',
    );
    expect(mail.html).toContain('attachMaxBytes');
  });

  it('says so when asked but the engine offered no archive', async () => {
    const notifier = notifierFor({ attachArchive: true });
    await notifier.notify({ kind: 'backup:succeeded', result: backupResult() });
    const { mail } = only();
    expect(mail.attachments).toHaveLength(0);
    expect(mail.text).toContain('not attached: the archive was not offered for attaching');
  });

  it('still sends the report when the archive cannot be read', async () => {
    const notifier = notifierFor({ attachArchive: true });
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({ bytes: 10 }),
      attachment: async () => {
        throw new Error('storage went away');
      },
    });
    const { mail } = only();
    expect(mail.attachments).toHaveLength(0);
    expect(mail.text).toContain('not attached: the archive could not be read (storage went away)');
  });
});
