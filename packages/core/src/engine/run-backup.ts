import type { BackupResult } from '../contracts.js';
import { LifeboatError, toLifeboatError } from '../errors.js';
import { type BackupOptions, createBackup } from './backup.js';
import type { EngineContext } from './context.js';
import { errorSummary } from './context.js';
import { type RunRecord, readHistory, recordRun } from './history.js';
import { acquireLock, type HeldLock } from './lock.js';
import { LOCKED_RUNS_ALERT, lockedInARow } from './locked-runs.js';
import { notifyAll } from './notify.js';
import { prune } from './prune.js';

/**
 * Tells the notifiers and the history that a backup failed. Never throws. A run cancelled through
 * its AbortSignal (Ctrl-C, SIGTERM) is recorded as cancelled and not mailed: whoever cancelled it
 * knows, and waiting for a mail server would keep the lock and the process alive.
 */
async function reportFailure(
  ctx: EngineContext,
  failure: LifeboatError,
  startedAt: Date,
  durationMs: number,
  archiveId?: string,
  signal?: AbortSignal,
): Promise<void> {
  const cancelled = signal?.aborted === true;
  const reason = cancelled ? toLifeboatError(signal.reason) : failure;
  const notifications = cancelled
    ? []
    : await notifyAll(ctx, {
        kind: 'backup:failed',
        error: errorSummary(failure),
        at: startedAt,
        storage: ctx.storage.describe(),
      });
  await recordRun(
    ctx.storage,
    {
      kind: 'backup',
      ok: false,
      ...(cancelled ? { cancelled: true } : {}),
      ...(archiveId ? { id: archiveId } : {}),
      startedAt: startedAt.toISOString(),
      durationMs,
      error: { code: reason.code, message: reason.message },
      notifications,
    },
    ctx.cipher,
  ).catch((error) => historyFailed(ctx, error));
}

/** The one place `backup:failed` is emitted. */
const failed = (ctx: EngineContext, failure: LifeboatError, durationMs: number, id?: string) =>
  ctx.events.emit('backup:failed', {
    ...(id ? { id } : {}),
    error: errorSummary(failure),
    durationMs,
  });

const historyFailed = (ctx: EngineContext, error: unknown) =>
  ctx.events.emit('warning', {
    code: 'HISTORY_FAILED',
    message: `Could not record the run in ${ctx.storage.describe()}: ${(error as Error).message}`,
  });

/**
 * Records a backup refused for the lock. One refusal is not mailed: another run is usually doing
 * the job (replicas of a host backend all schedule it). LOCKED_RUNS_ALERT refusals in a row, with
 * no backup between them, mean the lock is stuck (anyone who can connect can hold PostgreSQL's
 * advisory lock): that is a failure to back up, mailed like one. Never throws.
 */
async function reportLocked(
  ctx: EngineContext,
  failure: LifeboatError,
  startedAt: Date,
  durationMs: number,
): Promise<void> {
  const record: RunRecord = {
    kind: 'backup',
    ok: false,
    startedAt: startedAt.toISOString(),
    durationMs,
    error: { code: failure.code, message: failure.message },
  };
  const before = await readHistory(ctx.storage, { kinds: ['backup'], limit: 20 }, ctx.cipher).catch(
    () => [],
  );
  const inARow = lockedInARow([record, ...before]);
  if (inARow >= LOCKED_RUNS_ALERT) {
    const stuck = new LifeboatError(
      'LOCKED',
      `${inARow} backups in a row were refused because the lock is held: ${failure.message}`,
      {
        hint: 'No backup is being made. Find who holds the lock (see `lifeboat status`) and end it.',
      },
    );
    ctx.events.emit('warning', { code: 'LOCKED_RUNS', message: stuck.message });
    record.notifications = await notifyAll(ctx, {
      kind: 'backup:failed',
      error: errorSummary(stuck),
      at: startedAt,
      storage: ctx.storage.describe(),
    });
  }
  await recordRun(ctx.storage, record, ctx.cipher).catch((error) => historyFailed(ctx, error));
}

/**
 * The whole nightly job: lock, back up, prune (only after a success), warn on low space,
 * record the run, notify. A notifier failure never fails the backup; it is recorded.
 * A run that finds another run holding the lock fails with LOCKED; it is recorded, and mailed
 * only when it is the LOCKED_RUNS_ALERT-th in a row (see reportLocked).
 */
export async function runBackup(
  ctx: EngineContext,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const startedAt = ctx.now();
  const began = performance.now();
  let lock: HeldLock;
  let lockWaitMs = 0;
  // The sources' checks (a database that answers) run while the storage is readied and locked:
  // both are waits on other machines. createBackup awaits them; one that fails fails the backup
  // there, under the lock, as when it ran after it. (A run refused the lock has checked for
  // nothing: a connection opened and closed.)
  const checked = ctx.sources.map((source) => ctx.sourceReady(source, options.signal));
  for (const check of checked) check.catch(() => {});
  try {
    await ctx.ready(options.signal);
    const lockAsked = performance.now();
    lock = await acquireLock(ctx.storage, {
      ...ctx.config.lock,
      operation: 'backup',
      events: ctx.events,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    lockWaitMs = Math.round(performance.now() - lockAsked);
  } catch (error) {
    // The storage cannot be reached or the lock cannot be written: no backup was made, and
    // whoever waits for the nightly mail must hear about it.
    const failure = toLifeboatError(error, 'STORAGE_FAILED');
    const durationMs = Math.round(performance.now() - began);
    if (failure.code === 'LOCKED') {
      await reportLocked(ctx, failure, startedAt, durationMs);
      throw failure;
    }
    failed(ctx, failure, durationMs);
    await reportFailure(ctx, failure, startedAt, durationMs, undefined, options.signal);
    throw failure;
  }
  let result: BackupResult;
  try {
    const outcome = await createBackup(ctx, options, checked);
    if (!outcome.ok) {
      const { failure, archiveId, durationMs } = outcome;
      failed(ctx, failure, durationMs, archiveId);
      // Another run holds a lock (a source's, such as PostgreSQL's advisory lock): recorded,
      // mailed only when it keeps happening.
      if (failure.code === 'LOCKED') {
        await reportLocked(ctx, failure, startedAt, Math.round(performance.now() - began));
        throw failure;
      }
      await reportFailure(ctx, failure, startedAt, durationMs, archiveId, options.signal);
      throw failure;
    }
    result = outcome.result;
    // Prune only after a success, under the same lock.
    if (ctx.config.pruneAfterBackup) {
      try {
        result.pruned = (await prune(ctx)).deleted;
      } catch (error) {
        const e = toLifeboatError(error, 'STORAGE_FAILED');
        result.warnings.push({ code: 'PRUNE_FAILED', message: e.message });
        ctx.events.emit('warning', { code: 'PRUNE_FAILED', message: e.message });
      }
    }
    if (ctx.storage.freeSpace) {
      const space = await ctx.storage.freeSpace().catch(() => undefined);
      if (space && space.freeBytes < ctx.config.health.minFreeBytes) {
        // Low space warns and alerts; it never makes the prune delete beyond the policy.
        const message = `Only ${(space.freeBytes / 1024 ** 3).toFixed(2)} GiB free in ${ctx.storage.describe()} (minimum ${(ctx.config.health.minFreeBytes / 1024 ** 3).toFixed(2)} GiB)`;
        result.warnings.push({ code: 'LOW_FREE_SPACE', message });
        ctx.events.emit('warning', {
          code: 'LOW_FREE_SPACE',
          message,
          details: { freeBytes: space.freeBytes, minFreeBytes: ctx.config.health.minFreeBytes },
        });
      }
    }
    const file = result.file;
    result.notifications = await notifyAll(ctx, {
      kind: 'backup:succeeded',
      result,
      attachment: () => ctx.storage.get(file),
    });
    await recordRun(
      ctx.storage,
      {
        kind: 'backup',
        ok: true,
        id: result.id,
        file: result.file,
        startedAt: result.createdAt,
        durationMs: result.durationMs,
        bytes: result.bytes,
        encrypted: result.encrypted,
        tables: result.tables,
        files: result.files,
        notifications: result.notifications,
        lockWaitMs,
        ...(result.incomplete.length
          ? { incomplete: result.incomplete.length, leftOut: result.incomplete }
          : {}),
        ...(result.warnings.length ? { problems: result.warnings } : {}),
        ...(result.scope ? { partial: true, scope: result.scope } : {}),
      },
      ctx.cipher,
    ).catch((error) => historyFailed(ctx, error));
    ctx.events.emit('backup:succeeded', result);
    return result;
  } finally {
    await lock.release().catch(() => {});
  }
}

/** Prune under the lock (`lifeboat prune`). A dry run reads only and takes no lock. */
export async function runPrune(
  ctx: EngineContext,
  options: { dryRun?: boolean; signal?: AbortSignal } = {},
) {
  await ctx.ready(options.signal);
  if (options.dryRun) return prune(ctx, { dryRun: true });
  const lock = await acquireLock(ctx.storage, {
    ...ctx.config.lock,
    operation: 'prune',
    events: ctx.events,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const started = ctx.now();
  const began = performance.now();
  try {
    return await prune(ctx, { recordEmpty: true });
  } catch (error) {
    // A failed prune is a run too: the metrics' last prune status and health must show it.
    const failure = toLifeboatError(error, 'STORAGE_FAILED');
    await recordRun(
      ctx.storage,
      {
        kind: 'prune',
        ok: false,
        startedAt: started.toISOString(),
        durationMs: Math.round(performance.now() - began),
        error: { code: failure.code, message: failure.message },
      },
      ctx.cipher,
    ).catch((e) => historyFailed(ctx, e));
    throw failure;
  } finally {
    await lock.release().catch(() => {});
  }
}

export { LifeboatError };
