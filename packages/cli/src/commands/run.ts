import { type BackupResult, LifeboatError, metricsHandler, toLifeboatError } from '@lifeboat/core';
import type { CommandContext } from '../context.js';
import { healthReport } from '../health-report.js';
import type { HealthServer } from '../health-server.js';
import { formatBytes, formatDuration } from '../io.js';

export interface RunFlags {
  schedule?: string;
  healthPort?: string;
  healthHost?: string;
}

/**
 * `lifeboat run --schedule CRON`: the long-running mode of the old container. Every run is the
 * whole nightly job (`backup`: lock, back up, prune, notify, history, heartbeat); a run still going
 * when the next is due is skipped (RUN_SKIPPED), never run twice; METRICS_FILE is rewritten after
 * each run. SIGTERM or Ctrl-C stops the schedule and cancels the backup under way through its
 * AbortSignal (partial archive and lock removed, the run recorded as cancelled): a container's
 * stop grace period (10 s in Docker, 30 s in Kubernetes) is shorter than a backup, and a backup
 * killed halfway leaves more to clean than one cancelled.
 */
export async function runCommand(ctx: CommandContext): Promise<number> {
  const cron = ctx.settings.schedule;
  if (!cron) {
    throw new LifeboatError('CONFIG_INVALID', 'run needs a schedule: --schedule or SCHEDULE', {
      hint: 'Such as: lifeboat run --schedule "0 2 * * *" (02:00 UTC every day).',
    });
  }
  if (ctx.io.json) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      '--json does not apply to run: it never ends with one document',
      {
        hint: 'LOG_FORMAT=json writes every event as a JSON line on standard error (LOG_FILE always does).',
      },
    );
  }
  // Readable lines for people; with LOG_FORMAT=json standard error holds only the JSON lines.
  const say = (line: string) => {
    if (ctx.settings.logFormat !== 'json') ctx.io.note(line);
  };
  const engine = await ctx.engine();
  let runs = 0;
  let skipped = 0;
  let last: { ok: boolean; at: string; file?: string; code?: string } | undefined;
  engine.events.on('warning', (w) => {
    if (w.code === 'RUN_SKIPPED') skipped++;
  });
  engine.events.on('backup:succeeded', (r: BackupResult) => {
    last = { ok: true, at: r.createdAt, file: r.file };
    say(
      `stored ${r.file} (${formatBytes(r.bytes)}) in ${formatDuration(r.durationMs)}${r.pruned.length ? `, pruned ${r.pruned.length}` : ''}`,
    );
  });
  const job = engine.schedule(cron, {
    signal: ctx.signal,
    onError: (error) => {
      // Cancelled by SIGTERM/Ctrl-C: the one line that says so comes on the way out.
      if (ctx.signal.aborted) return;
      // The run was recorded, notified and logged by the engine; the operator's terminal or
      // the container log gets the error line too. The schedule goes on.
      ctx.io.error(error);
      last = { ok: false, at: new Date().toISOString(), code: toLifeboatError(error).code };
    },
    afterRun: async () => {
      runs++;
      await ctx.writeMetrics();
    },
  });
  let server: HealthServer | undefined;
  let busyAtStop = false;
  try {
    if (ctx.settings.healthPort !== undefined) {
      const host = ctx.settings.healthHost ?? '0.0.0.0';
      // node:http and the server load only for `run --health-port`.
      const { startHealthServer } = await import('../health-server.js');
      server = await startHealthServer(
        {
          live: () => {
            const next = job.nextRun();
            return {
              // The scheduler is alive while it has a next run and no stop was asked.
              alive: !ctx.signal.aborted && next !== null,
              status: ctx.signal.aborted ? 'stopping' : 'alive',
              schedule: cron,
              nextRun: next?.toISOString() ?? null,
              running: job.isBusy(),
              runs,
              skipped,
              ...(last ? { lastRun: last } : {}),
            };
          },
          health: () => healthReport(engine, ctx.heartbeat()),
          metrics: metricsHandler(engine),
        },
        { port: ctx.settings.healthPort, host },
      );
      ctx.logger.info({ event: 'run:listening', host, port: server.port }, 'health endpoints');
      say(
        `health endpoints on http://${host.includes(':') ? `[${host}]` : host}:${server.port} (/healthz, /health, /metrics)`,
      );
    }
    const next = job.nextRun();
    ctx.logger.info({ event: 'run:scheduled', schedule: cron, next }, 'scheduled');
    say(`scheduled "${cron}" (UTC); next run ${next?.toISOString() ?? 'never'}`);
    // Until SIGTERM or Ctrl-C: the scheduler's timer keeps the process alive.
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    busyAtStop = job.isBusy();
  } finally {
    await job.stop();
    await server?.close();
  }
  // The caller prints the one line (with this message) and exits 130/143.
  throw new LifeboatError(
    'ABORTED',
    busyAtStop
      ? 'the backup under way was cancelled and nothing of it stored (partial archive and lock removed)'
      : 'no backup was running',
    { cause: ctx.signal.reason },
  );
}
