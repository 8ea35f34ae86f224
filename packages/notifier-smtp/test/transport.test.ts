import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { isLifeboatError } from '@lifeboat/core';
import { sampleBackupResult as backupResult, rejectionOf } from '@lifeboat/core/testing';
import { smtpNotifier } from '@lifeboat/notifier-smtp';
import {
  freePort,
  selfSignedCert,
  smtpError,
  startDroppingServer,
  startSilentServer,
  startSmtpServer,
} from '@lifeboat/test-support/smtp';
import type { SMTPServerAuthentication } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const PASSWORD = 'S3cret-Pa55word!';
const WRONG = 'Wr0ng-Pa55word!';
const testEvent = { kind: 'test', at: new Date('2025-01-02T03:04:05Z') } as const;
const base = {
  host: '127.0.0.1',
  from: 'lifeboat@example.com',
  to: ['ops@example.com'],
  retryDelayMs: 5,
};

const servers: { close(): Promise<void> }[] = [];
const started = async <T extends { close(): Promise<void> }>(server: Promise<T>): Promise<T> => {
  const s = await server;
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('authentication', () => {
  const authServer = (methods: string[]) =>
    started(
      startSmtpServer({
        authMethods: methods,
        authOptional: false,
        allowInsecureAuth: true,
        onAuth(auth: SMTPServerAuthentication, _session, callback) {
          if (auth.username === 'alice' && auth.password === PASSWORD)
            return callback(null, { user: 'alice' });
          callback(smtpError(535, 'Authentication credentials invalid'));
        },
      }),
    );

  for (const method of ['PLAIN', 'LOGIN']) {
    it(`delivers with the right credentials over AUTH ${method}`, async () => {
      const server = await authServer([method]);
      const notifier = smtpNotifier({
        ...base,
        port: server.port,
        requireTLS: false,
        user: 'alice',
        pass: PASSWORD,
      });
      await notifier.notify(testEvent);
      await notifier.close();
      expect(server.authMethods).toEqual([method]);
      expect(server.received).toHaveLength(1);
      expect(server.received[0]!.user).toBe('alice');
    });

    it(`fails at once with wrong credentials over AUTH ${method}, never showing the password`, async () => {
      const server = await authServer([method]);
      const notifier = smtpNotifier({
        ...base,
        port: server.port,
        requireTLS: false,
        user: 'alice',
        pass: WRONG,
        retries: 3,
      });
      const error = await rejectionOf(notifier.notify(testEvent));
      expect(error.code).toBe('NOTIFY_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
      expect(error.message).toContain('535');
      expect(error.message).toContain('Authentication credentials invalid');
      // The SDK's hint names its options; the CLI's names SMTP_USER (cli/test/error-hints).
      expect(error.hint).toContain('user and pass options');
      expect(server.counts.auth).toBe(1); // a permanent refusal is not retried
      expect(server.received).toHaveLength(0);
      const encoded = [
        WRONG,
        Buffer.from(WRONG).toString('base64'),
        Buffer.from(`\u0000alice\u0000${WRONG}`).toString('base64'),
      ];
      const views = [
        error.message,
        JSON.stringify(error),
        inspect(error, { depth: 5 }),
        String(error.cause),
      ];
      for (const view of views) for (const secret of encoded) expect(view).not.toContain(secret);
      expect(error.cause).toBeInstanceOf(Error);
      expect((error.cause as { responseCode?: number }).responseCode).toBe(535);
    });
  }

  it('hides the password even when the server echoes it back', async () => {
    const server = await started(
      startSmtpServer({
        authMethods: ['PLAIN'],
        authOptional: false,
        allowInsecureAuth: true,
        onAuth(auth: SMTPServerAuthentication, _session, callback) {
          callback(smtpError(535, `Password ${auth.password} is wrong`));
        },
      }),
    );
    const notifier = smtpNotifier({
      ...base,
      port: server.port,
      requireTLS: false,
      user: 'alice',
      pass: WRONG,
    });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.message).toContain('535 Password *** is wrong');
    for (const view of [error.message, JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(view).not.toContain(WRONG);
    }
    const [check] = await notifier.health();
    expect(check!.message).toContain('535 Password *** is wrong');
  });

  it('is refused without credentials when the server requires them', async () => {
    const server = await authServer(['PLAIN']);
    const notifier = smtpNotifier({ ...base, port: server.port });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.message).toMatch(/530|Authentication Required/i);
    expect(server.received).toHaveLength(0);
  });

  it('health() reports the login as ok, and a wrong password as a warning', async () => {
    const server = await authServer(['PLAIN']);
    const good = smtpNotifier({
      ...base,
      port: server.port,
      requireTLS: false,
      user: 'alice',
      pass: PASSWORD,
    });
    const bad = smtpNotifier({
      ...base,
      port: server.port,
      requireTLS: false,
      user: 'alice',
      pass: WRONG,
    });
    const [ok] = await good.health();
    const [warning] = await bad.health();
    await Promise.all([good.close(), bad.close()]);
    expect(ok).toMatchObject({ name: 'mail', status: 'ok' });
    expect(ok!.message).toContain(`127.0.0.1:${server.port}`);
    expect(warning).toMatchObject({ name: 'mail', status: 'warning' });
    expect(warning!.message).toContain('535');
    expect(warning!.message).not.toContain(WRONG);
    expect(server.received).toHaveLength(0);
  });
});

describe('TLS', () => {
  let tls: { key: string; cert: string };
  beforeAll(() => {
    tls = selfSignedCert();
  });

  it('upgrades with STARTTLS to a self-signed server when told to accept it', async () => {
    const server = await started(startSmtpServer({ key: tls.key, cert: tls.cert }));
    const notifier = smtpNotifier({
      ...base,
      port: server.port,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    await notifier.notify(testEvent);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.secure).toBe(true);
  });

  it('with a user, requires TLS by default: a server without STARTTLS never sees the password', async () => {
    let offered: string | null | undefined;
    const plain = await started(
      startSmtpServer({
        authOptional: false,
        allowInsecureAuth: true,
        onAuth(auth: SMTPServerAuthentication, _session, callback) {
          offered = auth.password;
          callback(null, { user: 'alice' });
        },
      }),
    );
    const notifier = smtpNotifier({ ...base, port: plain.port, user: 'alice', pass: PASSWORD });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(false);
    expect(offered).toBeUndefined();
    expect(plain.received).toHaveLength(0);

    const withTls = await started(
      startSmtpServer({
        key: tls.key,
        cert: tls.cert,
        authOptional: false,
        onAuth(auth: SMTPServerAuthentication, _session, callback) {
          offered = auth.password;
          callback(null, { user: 'alice' });
        },
      }),
    );
    const upgraded = smtpNotifier({
      ...base,
      port: withTls.port,
      user: 'alice',
      pass: PASSWORD,
      tls: { ca: tls.cert },
    });
    await upgraded.notify(testEvent);
    expect(offered).toBe(PASSWORD);
    expect(withTls.received[0]?.secure).toBe(true);
  });

  it('verifies the certificate against a private CA (tls.ca)', async () => {
    const server = await started(startSmtpServer({ key: tls.key, cert: tls.cert }));
    const notifier = smtpNotifier({
      ...base,
      port: server.port,
      requireTLS: true,
      tls: { ca: tls.cert },
    });
    await notifier.notify(testEvent);
    expect(server.received[0]?.secure).toBe(true);
  });

  it('refuses an untrusted certificate by default, without retrying', async () => {
    const server = await started(startSmtpServer({ key: tls.key, cert: tls.cert }));
    const notifier = smtpNotifier({ ...base, port: server.port, retries: 3 });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/certificate/i);
    expect(error.details).toMatchObject({ kind: 'tls', attempts: 1 });
    expect(server.counts.connections).toBe(1);
    expect(server.received).toHaveLength(0);
  });

  it('fails with requireTLS when the server offers no STARTTLS', async () => {
    const server = await started(startSmtpServer());
    const notifier = smtpNotifier({ ...base, port: server.port, requireTLS: true });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.message).toMatch(/STARTTLS/);
    expect(server.received).toHaveLength(0);
  });

  it('speaks TLS from the first byte with secure: true', async () => {
    const server = await started(startSmtpServer({ secure: true, key: tls.key, cert: tls.cert }));
    const notifier = smtpNotifier({
      ...base,
      port: server.port,
      secure: true,
      tls: { rejectUnauthorized: false },
    });
    await notifier.notify(testEvent);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.secure).toBe(true);
    expect(notifier.describe()).toContain('(TLS)');
  });
});

describe('rejections and retries', () => {
  it('fails at once on a permanent 550 for the recipient', async () => {
    const server = await started(
      startSmtpServer({}, { rcpt: (address) => smtpError(550, `No such user ${address}`) }),
    );
    const notifier = smtpNotifier({ ...base, port: server.port, retries: 3 });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.message).toContain('550 No such user ops@example.com');
    expect(error.hint).toContain('the from and to options');
    expect(server.counts.rcpt).toBe(1);
    expect(server.counts.connections).toBe(1);
  });

  it('fails at once on a permanent 552 after DATA', async () => {
    const server = await started(
      startSmtpServer({}, { data: () => smtpError(552, 'Message too big for policy') }),
    );
    const notifier = smtpNotifier({ ...base, port: server.port, retries: 3 });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('552 Message too big for policy');
    expect(error.hint).toContain('attachArchive');
    expect(server.counts.data).toBe(1);
    expect(server.received).toHaveLength(0);
  });

  it('retries a temporary 451 and delivers once, re-opening the attachment', async () => {
    const server = await started(
      startSmtpServer(
        {},
        { data: (n) => (n === 1 ? smtpError(451, 'Try again later') : undefined) },
      ),
    );
    const archive = Buffer.alloc(30_000, 7);
    const attachment = vi.fn(async () => Readable.from([archive]));
    const notifier = smtpNotifier({ ...base, port: server.port, retries: 3, attachArchive: true });
    await notifier.notify({
      kind: 'backup:succeeded',
      result: backupResult({ bytes: archive.length }),
      attachment,
    });
    expect(server.counts.data).toBe(2);
    expect(server.received).toHaveLength(1);
    expect(attachment).toHaveBeenCalledTimes(2);
    expect(Buffer.compare(server.received[0]!.mail.attachments[0]!.content, archive)).toBe(0);
  });

  it('gives up after `retries` attempts of temporary errors, as retryable', async () => {
    const server = await started(startSmtpServer({}, { data: () => smtpError(451, 'Greylisted') }));
    const notifier = smtpNotifier({ ...base, port: server.port, retries: 4 });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('451 Greylisted');
    expect(error.message).toContain('after 4 attempts');
    expect(server.counts.data).toBe(4);
  });

  it('fails without retrying when only some recipients are refused (no duplicates)', async () => {
    const server = await started(
      startSmtpServer(
        {},
        {
          rcpt: (address) => (address === 'gone@example.com' ? smtpError(550, 'Gone') : undefined),
        },
      ),
    );
    const notifier = smtpNotifier({
      ...base,
      port: server.port,
      to: ['ops@example.com', 'gone@example.com'],
    });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('gone@example.com');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.rcptTo).toEqual(['ops@example.com']);
  });
});

describe('a server that is down', () => {
  it('fails retryable after `retries` attempts when nothing listens', async () => {
    const port = await freePort();
    const notifier = smtpNotifier({ ...base, port, retries: 3, retryDelayMs: 20 });
    const began = Date.now();
    const error = await rejectionOf(notifier.notify(testEvent));
    const elapsed = Date.now() - began;
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('after 3 attempts');
    expect(error.details).toMatchObject({ attempts: 3, kind: 'connection' });
    // Two backoffs of 10-20 ms and 20-40 ms: at least 30 ms, far below a real timeout.
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(5000);
  });

  it('retries a server that hangs up, counting every connection', async () => {
    const dropping = await started(startDroppingServer());
    const notifier = smtpNotifier({ ...base, port: dropping.port, retries: 3 });
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.retryable).toBe(true);
    expect(dropping.connections()).toBe(3);
  });

  it('times out on a server that never greets, and retries', async () => {
    const silent = await started(startSilentServer());
    const notifier = smtpNotifier({ ...base, port: silent.port, retries: 2, timeoutMs: 150 });
    const began = Date.now();
    const error = await rejectionOf(notifier.notify(testEvent));
    expect(error.code).toBe('NOTIFY_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out after 150 ms');
    expect(error.details).toMatchObject({ attempts: 2, kind: 'connection' });
    expect(silent.connections()).toBe(2);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
  });

  it('health() reports it as a warning naming the server', async () => {
    const port = await freePort();
    const [check] = await smtpNotifier({ ...base, port }).health();
    expect(check).toMatchObject({ name: 'mail', status: 'warning' });
    expect(check!.message).toContain(`127.0.0.1:${port}`);
    expect(check!.message).toContain('host and port options');
  });
});

describe('abort', () => {
  it('sends nothing when the signal is already aborted', async () => {
    const server = await started(startSmtpServer());
    const notifier = smtpNotifier({ ...base, port: server.port });
    const error = await rejectionOf(notifier.notify(testEvent, { signal: AbortSignal.abort() }));
    expect(isLifeboatError(error, 'ABORTED')).toBe(true);
    expect(server.counts.connections).toBe(0);
  });

  it('stops waiting between retries when aborted', async () => {
    const port = await freePort();
    const notifier = smtpNotifier({ ...base, port, retries: 5, retryDelayMs: 30_000 });
    const controller = new AbortController();
    const began = Date.now();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const error = await rejectionOf(notifier.notify(testEvent, { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - began).toBeLessThan(5000);
  });
});
