import { hostHint, jitteredBackoff } from '@lifeboat/core';
import type { NodemailerError } from 'nodemailer';

/**
 * What an SMTP failure means for the next attempt. Kept apart from the notifier so the policy
 * (which errors are worth a retry) can be read and tested on its own.
 */

/** Longest wait between two attempts, whatever retryDelayMs and retries say. */
const MAX_BACKOFF_MS = 60_000;

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of many hosts spread out. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  return jitteredBackoff(attempt, baseMs, MAX_BACKOFF_MS, random);
}

// Error codes nodemailer (or Node under it) gives when the connection, not the message, failed.
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'ESTREAM',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

export type FailureKind = 'auth' | 'tls' | 'connection' | 'temporary' | 'rejected' | 'other';

export interface Failure {
  kind: FailureKind;
  retryable: boolean;
  hint: string;
}

/** Temporary (4xx, network) is retried; a permanent answer (5xx, bad login, bad TLS) would only repeat. */
export function classifySmtpError(error: unknown): Failure {
  const e = (error ?? {}) as NodemailerError;
  const code = e.code ?? '';
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (code === 'EAUTH' || code === 'ENOAUTH') {
    // 454 is "temporary authentication failure" (the auth backend is down): worth another try.
    return {
      kind: 'auth',
      retryable: reply !== undefined && reply >= 400 && reply < 500,
      hint: hostHint(
        'smtp:auth',
        'Check the user and pass options, and that the server offers AUTH on this port.',
      ),
    };
  }
  if (
    code === 'ETLS' ||
    code === 'EREQUIRETLS' ||
    /certificate|self[- ]signed|SSL routines|wrong version number/i.test(e.message ?? '')
  ) {
    return {
      kind: 'tls',
      retryable: false,
      hint: hostHint(
        'smtp:tls',
        'Check the secure option against the port (465 is TLS from the start, 587 upgrades with STARTTLS) and the server certificate.',
      ),
    };
  }
  if (reply !== undefined && reply >= 400 && reply < 500) {
    return {
      kind: 'temporary',
      retryable: true,
      hint: 'The mail server refused for now (busy, greylisting); retry later.',
    };
  }
  if (reply !== undefined && reply >= 500) {
    const envelope = code === 'EENVELOPE' || /^(MAIL|RCPT)/i.test(e.command ?? '');
    return {
      kind: 'rejected',
      retryable: false,
      hint: envelope
        ? hostHint(
            'smtp:envelope',
            'The server refused the sender or a recipient: check the from and to options.',
          )
        : 'The server refused the message: see its answer (a size limit? turn attachArchive off or lower attachMaxBytes).',
    };
  }
  if (CONNECTION_CODES.has(code) || CONNECTION_CODES.has(e.originalCode ?? '')) {
    return {
      kind: 'connection',
      retryable: true,
      hint: hostHint(
        'smtp:connection',
        'Check the host and port options, and that the mail server runs and is reachable from here.',
      ),
    };
  }
  return {
    kind: 'other',
    retryable: false,
    hint: hostHint('smtp:other', 'Check the mail server options.'),
  };
}

/** A reply of the server, or the socket error, in one line. */
export function reasonOf(error: unknown, timeoutMs?: number): string {
  const e = (error ?? {}) as NodemailerError;
  if (e.response) {
    return `the server answered "${e.response.trim()}"${e.command ? ` to ${e.command.split(' ').slice(0, 2).join(' ')}` : ''}`;
  }
  const message = (error instanceof Error ? error.message : String(error)) || 'unknown error';
  // "Greeting never received" alone does not say that we gave up waiting, nor after how long.
  return e.code === 'ETIMEDOUT' && timeoutMs
    ? `${message} (timed out after ${timeoutMs} ms, timeoutMs)`
    : message;
}
