import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseOptions } from '../config.js';
import type { HealthCheck } from '../contracts.js';
import { toLifeboatError } from '../errors.js';
import type { LifeboatEmitter } from '../events.js';
import { redact } from '../redact.js';
import { displayUrl, registerUrlSecrets } from '../url-secrets.js';
import { sendHttp, urlHealth } from './http.js';

const httpUrl = z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
  message: 'must be an http(s) URL such as https://hc-ping.com/<uuid>',
});

export const heartbeatOptionsSchema = z
  .object({
    url: httpUrl,
    /**
     * `healthchecks`: `URL/start`, `URL` on success, `URL/fail` (healthchecks.io, and Cronitor,
     * Dead Man's Snitch-style services that copy it). `uptime-kuma`: the push monitor's
     * `URL?status=up|down&msg=…&ping=…`.
     */
    style: z.enum(['healthchecks', 'uptime-kuma']).default('healthchecks'),
    /** Per attempt: a dead-man's switch that hangs must not hold the backup. */
    timeoutMs: z.number().int().positive().default(10_000),
    attempts: z.number().int().min(1).max(10).default(2),
    retryDelayMs: z.number().int().nonnegative().default(1000),
    /** Lines of the run's log sent as the ping's body (healthchecks keeps up to 100 kB). */
    logLines: z.number().int().min(1).max(1000).default(50),
  })
  .strict();

export type HeartbeatOptions = z.input<typeof heartbeatOptionsSchema>;
export type HeartbeatSignal = 'start' | 'success' | 'fail' | 'log';

const formatBytes = (n: number) =>
  n >= 1024 ** 3
    ? `${(n / 1024 ** 3).toFixed(2)} GiB`
    : n >= 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;

/**
 * A dead-man's switch around backup runs: it watches the engine's events and pings a monitoring
 * service at the start, the success and the failure of every backup, so the service raises the
 * alarm when a ping stops coming ("nothing happened" is the failure e-mail cannot report).
 * It is an observer of the engine, not part of any plugin: a ping that fails is a
 * `HEARTBEAT_FAILED` warning, never a failed backup.
 */
export function heartbeat(input: HeartbeatOptions) {
  const options = parseOptions(heartbeatOptionsSchema, input, 'heartbeat');
  registerUrlSecrets(options.url);
  const where = displayUrl(options.url);
  // Pings go out one after another: the success must not overtake the start.
  let queue: Promise<void> = Promise.resolve();

  const pingUrl = (
    signal: HeartbeatSignal,
    runId: string | undefined,
    message: string,
    durationMs?: number,
  ) => {
    const url = new URL(options.url);
    if (options.style === 'uptime-kuma') {
      url.searchParams.set('status', signal === 'fail' ? 'down' : 'up');
      url.searchParams.set('msg', message.slice(0, 250));
      url.searchParams.set('ping', durationMs === undefined ? '' : String(durationMs));
      return url.toString();
    }
    const suffix = signal === 'success' ? '' : `/${signal}`;
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${suffix}`;
    // healthchecks.io pairs a start with its end by run id (overlapping runs stay apart).
    if (runId) url.searchParams.set('rid', runId);
    return url.toString();
  };

  /** Sends one ping now; throws NOTIFY_FAILED (redacted) when every attempt failed. */
  const send = async (
    signal: HeartbeatSignal,
    log: string[],
    runId?: string,
    durationMs?: number,
  ): Promise<void> => {
    const body = redact(log.join('\n'));
    const kuma = options.style === 'uptime-kuma';
    await sendHttp(
      {
        url: pingUrl(signal, runId, redact(log.at(-1) ?? ''), durationMs),
        // Uptime Kuma's push takes GET only; healthchecks.io keeps a POST body as the run's log.
        method: kuma ? 'GET' : 'POST',
        build: () =>
          kuma ? {} : { headers: { 'content-type': 'text/plain; charset=utf-8' }, body },
        what: `the ${signal} heartbeat`,
      },
      {
        attempts: options.attempts,
        timeoutMs: options.timeoutMs,
        retryDelayMs: options.retryDelayMs,
      },
    );
  };

  const enqueue = (events: LifeboatEmitter | undefined, job: () => Promise<void>) => {
    queue = queue.then(job).catch((error) => {
      const e = toLifeboatError(error, 'NOTIFY_FAILED');
      events?.emit('warning', {
        code: 'HEARTBEAT_FAILED',
        message: redact(e.message),
        details: { url: where },
      });
    });
  };

  return {
    id: 'heartbeat' as const,
    style: options.style,

    describe: () => `${options.style} heartbeat ${where}`,

    /** Pings for every backup the engine runs from now on. Returns a function that stops it. */
    watch(events: LifeboatEmitter): () => void {
      let runId: string | undefined;
      let log: string[] = [];
      let tables = 0;
      let rows = 0;
      const line = (text: string) => {
        log.push(`${new Date().toISOString()} ${text}`);
        // The start and the newest lines are kept: the end of a run says how it ended.
        if (log.length > options.logLines) log.splice(1, log.length - options.logLines);
      };
      const begin = () => {
        runId = randomUUID();
        log = [];
        tables = 0;
        rows = 0;
      };
      const finish = (signal: 'success' | 'fail', durationMs: number) => {
        const sent = [...log];
        const id = runId;
        runId = undefined;
        enqueue(events, () => send(signal, sent, id, durationMs));
      };
      const handlers = {
        'backup:started': (e: { id: string; sources: string[]; storage: string }) => {
          begin();
          line(
            `backup ${e.id} started on ${hostname()}: ${e.sources.join(', ') || 'no source'} to ${e.storage}`,
          );
          const sent = [...log];
          const id = runId;
          if (options.style === 'healthchecks') enqueue(events, () => send('start', sent, id));
        },
        'source:item': (e: { phase: string; kind: string; rows?: number }) => {
          if (e.phase !== 'backup' || e.kind !== 'table') return;
          tables++;
          rows += e.rows ?? 0;
        },
        warning: (e: { code: string; message: string }) => {
          if (runId && e.code !== 'HEARTBEAT_FAILED') line(`warning ${e.code}: ${e.message}`);
        },
        'notify:failed': (e: { notifier: string; error: { code: string; message: string } }) => {
          if (runId) line(`notifier ${e.notifier} failed: ${e.error.message}`);
        },
        'backup:succeeded': (r: {
          file: string;
          bytes: number;
          durationMs: number;
          files: number;
          warnings: unknown[];
        }) => {
          if (!runId) begin();
          if (tables > 0) line(`${tables} table(s), ${rows} row(s) copied`);
          line(
            `stored ${r.file} (${formatBytes(r.bytes)}) in ${(r.durationMs / 1000).toFixed(1)} s${r.files ? `, ${r.files} file(s)` : ''}${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}`,
          );
          finish('success', r.durationMs);
        },
        'backup:failed': (e: { error: { code: string; message: string }; durationMs: number }) => {
          if (!runId) begin();
          if (e.error.code === 'LOCKED') {
            // Another run (a replica) holds the lock and is doing the job: not a failure.
            line(`backup skipped: ${e.error.message}`);
            const sent = [...log];
            runId = undefined;
            if (options.style === 'healthchecks') enqueue(events, () => send('log', sent));
            return;
          }
          line(`backup FAILED ${e.error.code}: ${e.error.message}`);
          finish('fail', e.durationMs);
        },
      };
      for (const [name, handler] of Object.entries(handlers))
        events.on(name as keyof typeof handlers, handler as never);
      return () => {
        for (const [name, handler] of Object.entries(handlers))
          events.off(name as keyof typeof handlers, handler as never);
      };
    },

    /** Waits for the pings in flight (bounded by their timeouts); call before the process exits. */
    async settle(): Promise<void> {
      let seen: Promise<void>;
      do {
        seen = queue;
        await seen;
      } while (seen !== queue);
    },

    /**
     * A test ping that changes no state: healthchecks.io's `URL/log`. Uptime Kuma has none (any
     * push marks the monitor up), so nothing is sent and the result says so.
     */
    async test(): Promise<{ sent: boolean; reason?: string }> {
      if (options.style === 'uptime-kuma') {
        return {
          sent: false,
          reason: 'Uptime Kuma has no test ping: a push would mark the monitor up',
        };
      }
      await send('log', [`lifeboat notify-test from ${hostname()} at ${new Date().toISOString()}`]);
      return { sent: true };
    },

    /** Whether the service can be reached (a connection only: nothing is pinged). */
    health: (): Promise<HealthCheck[]> =>
      urlHealth({
        name: 'heartbeat',
        url: options.url,
        where,
        timeoutMs: options.timeoutMs,
        unreachable: (reason) => `${where} cannot be reached: ${reason}`,
      }),
  };
}

export type Heartbeat = ReturnType<typeof heartbeat>;
