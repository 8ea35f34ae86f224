import { isLifeboatError } from '@lifeboat/core';
import {
  backoffDelay,
  classifySmtpError,
  DEFAULT_ATTACH_MAX_BYTES,
  formatBytes,
  formatDuration,
  smtpNotifier,
  smtpNotifierOptionsSchema,
} from '@lifeboat/notifier-smtp';
import { describe, expect, it } from 'vitest';

const minimal = { host: 'smtp.example.com', from: 'lifeboat@example.com', to: 'ops@example.com' };
const parse = (input: Record<string, unknown>) => smtpNotifierOptionsSchema.parse(input);

describe('options', () => {
  it('fills in the documented defaults', () => {
    expect(parse(minimal)).toEqual({
      ...minimal,
      to: ['ops@example.com'],
      port: 587,
      secure: false,
      requireTLS: false,
      ignoreTLS: false,
      attachArchive: false,
      attachMaxBytes: DEFAULT_ATTACH_MAX_BYTES,
      retries: 3,
      retryDelayMs: 1000,
      timeoutMs: 30_000,
      subjectPrefix: '[Lifeboat]',
    });
    expect(DEFAULT_ATTACH_MAX_BYTES).toBe(10 * 1024 * 1024);
  });

  it('ties port 465 and implicit TLS together, unless told otherwise', () => {
    expect(parse({ ...minimal, port: 465 })).toMatchObject({ port: 465, secure: true });
    expect(parse({ ...minimal, secure: true })).toMatchObject({ port: 465, secure: true });
    expect(parse({ ...minimal, port: 2465, secure: true })).toMatchObject({
      port: 2465,
      secure: true,
    });
    expect(parse({ ...minimal, port: 465, secure: false })).toMatchObject({
      port: 465,
      secure: false,
    });
    expect(parse({ ...minimal, port: 25 })).toMatchObject({ port: 25, secure: false });
  });

  it('takes ADMIN_EMAIL as a comma list or an array', () => {
    expect(parse({ ...minimal, to: ' a@example.com, b@example.com ,,' }).to).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(parse({ ...minimal, to: ['a@example.com', 'Ops <ops@example.com>'] }).to).toEqual([
      'a@example.com',
      'Ops <ops@example.com>',
    ]);
  });

  it.each([
    [{ ...minimal, to: '' }, 'at least one recipient'],
    [{ ...minimal, to: 'not-an-address' }, 'to.0: must be an e-mail address'],
    [{ ...minimal, host: '' }, 'the SMTP host is required (host)'],
    [{ ...minimal, pass: 'secret-value' }, 'a password was given without a user'],
    [{ ...minimal, user: 'alice' }, 'a user was given without a password'],
    [{ ...minimal, port: 70000 }, 'port'],
    [{ ...minimal, retries: 0 }, 'retries'],
    [{ ...minimal, requireTLS: true, ignoreTLS: true }, 'exclude each other'],
    [{ ...minimal, tls: { rejectUnauthorised: false } }, 'unknown setting "rejectUnauthorised"'],
    [{ ...minimal, smtpHost: 'x' }, 'unknown setting "smtpHost"'],
  ])('refuses %j with CONFIG_INVALID naming the problem', (input, expected) => {
    let caught: unknown;
    try {
      smtpNotifier(input as Parameters<typeof smtpNotifier>[0]);
    } catch (error) {
      caught = error;
    }
    expect(isLifeboatError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('Invalid smtp options');
    expect((caught as Error).message).toContain(expected);
    expect((caught as Error).message).not.toContain('secret-value');
  });

  it('is an object with a literal id that touches no network until used', () => {
    const notifier = smtpNotifier({ ...minimal, user: 'alice', pass: 'hunter22' });
    const id: 'smtp' = notifier.id;
    expect(id).toBe('smtp');
    expect(notifier.describe()).toBe('smtp smtp.example.com:587 to ops@example.com');
    expect(notifier.describe()).not.toContain('hunter22');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10.0 MiB'],
    [250 * 1024 ** 3, '250 GiB'],
  ])('formatBytes(%d) is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [450, '450 ms'],
    [12_345, '12.3 s'],
    [65_000, '1 min 5 s'],
    [3_725_000, '1 h 2 min'],
  ])('formatDuration(%d) is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('retry policy', () => {
  it('doubles the delay per attempt, with jitter between half and all of it', () => {
    expect(backoffDelay(1, 1000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, () => 1)).toBe(4000);
    expect(backoffDelay(30, 1000, () => 1)).toBe(60_000);
  });

  it.each([
    [{ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }, true, 'temporary'],
    [{ code: 'EMESSAGE', responseCode: 421 }, true, 'temporary'],
    [{ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, false, 'rejected'],
    [{ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, false, 'rejected'],
    [{ code: 'EAUTH', responseCode: 535 }, false, 'auth'],
    [{ code: 'EAUTH', responseCode: 454 }, true, 'auth'],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }, true, 'connection'],
    [{ code: 'ETIMEDOUT' }, true, 'connection'],
    [{ code: 'ECONNECTION' }, true, 'connection'],
    [{ code: 'ETLS' }, false, 'tls'],
    [{ code: 'ECONFIG' }, false, 'other'],
  ])('classifies %j as retryable=%s (%s)', (error, retryable, kind) => {
    expect(classifySmtpError(Object.assign(new Error('x'), error))).toMatchObject({
      retryable,
      kind,
    });
  });
});
