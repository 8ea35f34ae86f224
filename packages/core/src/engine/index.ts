import type { ArchiveCipher } from '../cipher.js';
import { type EngineConfig, engineConfigSchema, formatIssues } from '../config.js';
import type { AnySource, BackupResult, HealthReport } from '../contracts.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { createEmitter, type LifeboatEmitter } from '../events.js';
import { collectMetrics, formatMetrics } from '../monitoring/metrics.js';
import { type ArchiveInfo, listArchives } from './archives.js';
import type { BackupOptions } from './backup.js';
import type { EngineContext } from './context.js';
import { type ArchiveEntries, listEntries } from './entries.js';
import { checkHealth } from './health.js';
import { type RunRecord, readHistory } from './history.js';
import { type NotifyOutcome, notifyAll } from './notify.js';
import type { PruneResult } from './prune.js';
import { type EngineRestoreOptions, type RestoreResult, runRestore } from './restore.js';
import { runBackup, runPrune } from './run-backup.js';
import { type Schedule, schedule } from './schedule.js';
import { type DayTrend, report, type StatusReport, status } from './status.js';
import { runVerify, type VerifyOptions, type VerifyResult } from './verify.js';

export interface ScheduleOptions {
  timezone?: string;
  onError?: (error: unknown) => void;
  /**
   * Aborting it stops the schedule and cancels the backup under way through its own signal
   * (partial archive and lock removed, the run recorded as cancelled).
   */
  signal?: AbortSignal;
  /** Awaited after every run, success or failure (a METRICS_FILE writer); its errors are ignored. */
  afterRun?: () => unknown;
}

export interface Engine {
  readonly events: LifeboatEmitter;
  readonly cipher: ArchiveCipher | undefined;
  backup(options?: BackupOptions): Promise<BackupResult>;
  list(): Promise<ArchiveInfo[]>;
  /** An archive's entries (sizes, tables, rows) from its index, without reading the archive. */
  entries(ref?: string): Promise<ArchiveEntries>;
  verify(ref?: string, options?: VerifyOptions): Promise<VerifyResult>;
  restore(ref?: string, options?: EngineRestoreOptions): Promise<RestoreResult>;
  history(): Promise<RunRecord[]>;
  prune(options?: { dryRun?: boolean; signal?: AbortSignal }): Promise<PruneResult>;
  /** Checks database, storage, free space, age of the last success and the mail server. */
  health(options?: { alert?: boolean }): Promise<HealthReport>;
  status(options?: { days?: number }): Promise<StatusReport>;
  report(options?: { days?: number }): Promise<DayTrend[]>;
  /** The Prometheus text exposition of the status and history (mount `metricsHandler` at /metrics). */
  metrics(): Promise<string>;
  /** Sends a test message through every notifier. */
  notifyTest(): Promise<NotifyOutcome[]>;
  /** Runs `backup()` on a cron schedule inside this process, never overlapping. */
  schedule(cron: string, options?: ScheduleOptions): Schedule;
  /** Closes every plugin the engine connected. */
  close(): Promise<void>;
  /** Internal context, for the engine's modules (backup, restore, prune, health, status). */
  readonly context: EngineContext;
}

/** Creates an engine. Nothing connects until the first operation; call `close()` when done. */
export function createEngine(input: EngineConfig): Engine {
  const parsed = engineConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `Invalid engine configuration: ${formatIssues(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  const config = parsed.data;
  const sections = new Set<string>();
  for (const source of config.sources) {
    if (sections.has(source.section)) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `Two sources write the "${source.section}/" section`,
      );
    }
    sections.add(source.section);
  }
  const events = createEmitter();
  let storageReady: Promise<void> | undefined;
  const sourcesReady = new Map<AnySource, Promise<void>>();
  const context: EngineContext = {
    config,
    storage: config.storage,
    sources: config.sources,
    notifiers: config.notifiers,
    cipher: config.cipher,
    events,
    now: config.now ?? (() => new Date()),
    ready(signal, options = {}) {
      const connect = (create: boolean) => {
        storageReady ??= config.storage
          .connect({ ...(signal ? { signal } : {}), ...(create ? {} : { create: false }) })
          .catch((error) => {
            storageReady = undefined;
            throw error;
          });
        return storageReady;
      };
      if (options.create === false) return connect(false);
      // A read-only connect that found no folder (a health check that ran first) is no reason
      // for a backup to fail: it connects again, creating the folder.
      return connect(true).catch((error) => {
        if (isLifeboatError(error, 'STORAGE_NOT_FOUND')) return connect(true);
        throw error;
      });
    },
    sourceReady(source, signal) {
      let ready = sourcesReady.get(source);
      if (!ready) {
        ready = source.connect(signal ? { signal } : {}).catch((error) => {
          sourcesReady.delete(source);
          throw error;
        });
        sourcesReady.set(source, ready);
      }
      return ready;
    },
  };
  return {
    events,
    cipher: config.cipher,
    context,
    backup: (options) => runBackup(context, options),
    list: () => listArchives(context),
    entries: (ref) => listEntries(context, ref),
    verify: (ref = 'latest', options) => runVerify(context, ref, options),
    restore: (ref = 'latest', options) => runRestore(context, ref, options),
    prune: (options) => runPrune(context, options),
    async health(options = {}) {
      const result = await checkHealth(context);
      if (result.status !== 'OK') {
        events.emit('health:alert', result);
        if (options.alert) await notifyAll(context, { kind: 'health:alert', report: result });
      }
      return result;
    },
    status: (options = {}) => status(context, options.days),
    report: (options = {}) => report(context, options.days),
    metrics: async () => formatMetrics(await collectMetrics(context)),
    notifyTest: () => notifyAll(context, { kind: 'test', at: context.now() }),
    schedule(cron, options = {}) {
      const { signal, afterRun } = options;
      const job = async () => {
        try {
          return await runBackup(context, signal ? { signal } : {});
        } finally {
          try {
            await afterRun?.();
          } catch {
            // A hook that fails must not turn a stored backup into a failed run.
          }
        }
      };
      const scheduled = schedule(cron, job, {
        ...(options.timezone ? { timezone: options.timezone } : {}),
        onError: options.onError ?? (() => {}),
        onSkip: () =>
          events.emit('warning', {
            code: 'RUN_SKIPPED',
            message: 'A scheduled backup was skipped: the previous one is still running',
          }),
      });
      if (signal?.aborted) void scheduled.stop();
      else signal?.addEventListener('abort', () => void scheduled.stop(), { once: true });
      return scheduled;
    },
    async history() {
      await context.ready(undefined, { create: false });
      return readHistory(context.storage, {}, context.cipher);
    },
    async close() {
      const closing: Promise<unknown>[] = [];
      for (const [source, ready] of sourcesReady)
        closing.push(ready.then(() => source.close()).catch(() => {}));
      if (storageReady) {
        // A connect that never answers (a hung mount or endpoint) must not hang close too:
        // after a second the storage is closed anyway (an S3 client's requests are cut).
        const settled = storageReady.catch(() => {});
        const late = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
        closing.push(
          Promise.race([settled, late])
            .then(() => config.storage.close())
            .catch(() => {}),
        );
      }
      for (const n of config.notifiers)
        closing.push(n.close?.().catch(() => {}) ?? Promise.resolve());
      await Promise.all(closing);
      sourcesReady.clear();
      storageReady = undefined;
    },
  };
}
