import type { HealthCheck } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import { redact } from '../redact.js';
import { abortableSleep, jitteredBackoff } from '../timing.js';
import { displayUrl } from '../url-secrets.js';

export interface HttpAttemptOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Limit of one attempt: connecting, sending, and the answer's status line. */
  timeoutMs: number;
  /** First pause between attempts; doubles each time, with jitter. */
  retryDelayMs: number;
  signal?: AbortSignal;
}

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  /** Called for every attempt, so a signature can carry a fresh timestamp. */
  build?: () => { headers?: Record<string, string>; body?: string };
  /** What is being sent, for messages: "the webhook", "the start ping". */
  what: string;
}

export interface HttpOutcome {
  status: number;
  attempts: number;
}

/** Pause before attempt `attempt + 1`: half to all of `base * 2^(attempt-1)`, at most 30 s. */
export const retryPause = (attempt: number, base: number) => jitteredBackoff(attempt, base, 30_000);

const retryableStatus = (status: number) => status >= 500 || status === 429 || status === 408;

/**
 * Sends one HTTP request, retried with backoff on 5xx, 408, 429, refused connections and
 * timeouts; any other 4xx fails at once (a wrong URL or token does not heal). The error never
 * holds the URL's path or query (tokens live there): only its origin.
 */
export async function sendHttp(
  request: HttpRequest,
  options: HttpAttemptOptions,
): Promise<HttpOutcome> {
  const where = displayUrl(request.url);
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      throw new LifeboatError('ABORTED', `${request.what} to ${where} was not sent: aborted`, {
        cause: options.signal.reason,
      });
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let reason: string;
    let retryable: boolean;
    let status: number | undefined;
    try {
      const { headers, body } = request.build?.() ?? {};
      const response = await fetch(request.url, {
        method: request.method,
        ...(headers ? { headers } : {}),
        ...(body !== undefined ? { body } : {}),
        signal,
        redirect: 'error',
      });
      // The body is not needed; reading it frees the connection.
      await response.body?.cancel().catch(() => {});
      if (response.ok) return { status: response.status, attempts: attempt };
      status = response.status;
      reason = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      retryable = retryableStatus(response.status);
    } catch (error) {
      if (options.signal?.aborted) {
        throw new LifeboatError('ABORTED', `${request.what} to ${where} was not sent: aborted`, {
          cause: options.signal.reason,
        });
      }
      reason = timeout.aborted
        ? `no answer within ${options.timeoutMs} ms`
        : describeFetchError(error);
      retryable = true;
    }
    if (!retryable || attempt >= options.attempts) {
      throw new LifeboatError(
        'NOTIFY_FAILED',
        redact(
          `${request.what} to ${where} failed: ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
        ),
        {
          retryable,
          hint: retryable
            ? 'Check that the receiver is up and reachable from this host.'
            : 'Check the URL and its token: the receiver refused the request.',
          details: { url: where, attempts: attempt, ...(status ? { status } : {}) },
        },
      );
    }
    // Aborted while waiting: the loop's check throws ABORTED.
    await abortableSleep(retryPause(attempt, options.retryDelayMs), options.signal).catch(() => {});
  }
}

/** fetch says "fetch failed"; the reason is in its cause (ECONNREFUSED, ENOTFOUND, a TLS error). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether the host of `url` accepts a connection (and a TLS handshake for https), without
 * sending anything: a health check must not post a message or ping a dead-man's switch.
 */
export async function probeUrl(
  url: string,
  timeoutMs: number,
): Promise<{ ok: boolean; reason?: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  const https = parsed.protocol === 'https:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || (https ? 443 : 80));
  // Loaded here, not with the module: a command that probes nothing (backup, restore) does not
  // pay for loading node:tls at start-up.
  const { connect: tlsConnect } = await import('node:tls');
  const { connect: netConnect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = https
      ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? '' : host })
      : netConnect({ host, port });
    const done = (result: { ok: boolean; reason?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, reason: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once(https ? 'secureConnect' : 'connect', () => done({ ok: true }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ ok: false, reason: error.code ?? error.message }),
    );
  });
}

/**
 * The health check of a service reached by URL (a heartbeat, a webhook receiver): whether it
 * accepts connections, nothing sent. Unreachable is a warning: the backups themselves are fine,
 * only what tells of them is at risk. `where` is the URL without secrets.
 */
export async function urlHealth(check: {
  name: string;
  url: string;
  where: string;
  timeoutMs: number;
  /** The message when it cannot be reached, from the reason. */
  unreachable: (reason: string | undefined) => string;
}): Promise<HealthCheck[]> {
  const probe = await probeUrl(check.url, check.timeoutMs);
  const details = { url: check.where };
  return [
    probe.ok
      ? { name: check.name, status: 'ok', message: `${check.where} accepts connections`, details }
      : {
          name: check.name,
          status: 'warning',
          message: redact(check.unreachable(probe.reason)),
          details,
        },
  ];
}
