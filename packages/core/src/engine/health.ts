import { randomBytes } from 'node:crypto';
import type { HealthCheck, HealthReport } from '../contracts.js';
import { withDeadline } from '../deadline.js';
import { type ErrorCode, LifeboatError, toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';
import { ARCHIVE_CLOCK_SKEW_MS, isCounted } from './archive-trust.js';
import { type ArchiveInfo, listArchives } from './archives.js';
import type { EngineContext } from './context.js';
import { drillCheck, drillState, lockedCheck } from './health-runs.js';
import { META_PREFIX, oldestRunAt, type RunRecord, readHistory } from './history.js';
import { isLockRefusal } from './locked-runs.js';

const hours = (ms: number) => (ms / 3600_000).toFixed(1);

/** Runs one check; a check that throws, or does not answer within `timeoutMs`, is critical. */
async function guarded(
  name: string,
  fallback: ErrorCode,
  timeoutMs: number,
  check: () => Promise<HealthCheck[]>,
): Promise<HealthCheck[]> {
  try {
    // A hung storage or server must make health answer CRITICAL, never make it hang: monitoring
    // that waits forever never alerts.
    const checks = await withDeadline(
      check(),
      timeoutMs,
      () =>
        new LifeboatError(
          'STORAGE_TIMEOUT',
          `the ${name} check did not answer within ${timeoutMs / 1000} s`,
        ),
    );
    // A plugin's own messages are redacted too: no check may print a password.
    return checks.map((c) => ({ ...c, message: redact(c.message) }));
  } catch (error) {
    const e = toLifeboatError(error, fallback);
    return [{ name, status: 'critical', message: redact(`${e.code}: ${e.message}`) }];
  }
}

/**
 * Answers "are the backups OK?", not "is it running": database reachable, storage reachable and
 * writable, free space, age of the last success, mail server. Each check has a status; the
 * worst one is the whole.
 */
export async function checkHealth(ctx: EngineContext): Promise<HealthReport> {
  const { minFreeBytes, checkTimeoutMs } = ctx.config.health;
  const checks: HealthCheck[] = [];
  for (const source of ctx.sources) {
    if (source.health) {
      checks.push(
        ...(await guarded(
          source.healthName ?? source.id,
          'SOURCE_FAILED',
          checkTimeoutMs,
          async () => {
            await ctx.sourceReady(source);
            return source.health!();
          },
        )),
      );
    }
  }
  checks.push(
    ...(await guarded('storage', 'STORAGE_FAILED', checkTimeoutMs, async () => {
      // Health only reads: a storage folder that does not exist is reported, never created.
      await ctx.ready(undefined, { create: false });
      const probe = `${META_PREFIX}health-probe-${randomBytes(4).toString('hex')}`;
      await ctx.storage.put(probe, Buffer.from('ok'), { overwrite: true });
      await ctx.storage.delete(probe);
      return [
        {
          name: 'storage',
          status: 'ok',
          message: `${ctx.storage.describe()} is reachable and writable`,
        },
      ];
    })),
  );
  if (ctx.storage.freeSpace) {
    checks.push(
      ...(await guarded('free-space', 'STORAGE_FAILED', checkTimeoutMs, async () => {
        const { freeBytes, totalBytes } = await ctx.storage.freeSpace!();
        const status =
          freeBytes < minFreeBytes / 4 ? 'critical' : freeBytes < minFreeBytes ? 'warning' : 'ok';
        return [
          {
            name: 'free-space',
            status,
            message: `${(freeBytes / 1024 ** 3).toFixed(2)} GiB free of ${(totalBytes / 1024 ** 3).toFixed(2)} GiB (minimum ${(minFreeBytes / 1024 ** 3).toFixed(2)} GiB)`,
            details: { freeBytes, totalBytes, minFreeBytes },
          },
        ];
      })),
    );
  }
  checks.push(
    ...(await guarded('last-backup', 'STORAGE_FAILED', checkTimeoutMs, async () => {
      const archives = await listArchives(ctx);
      const backups = await recentRuns(ctx, 'backup', 20);
      const verifies = await recentRuns(ctx, 'verify', 50);
      return [
        // A refusal for the lock is not the last run's outcome: the lock check says it.
        ...lastBackupChecks(
          ctx,
          archives,
          backups.find((r) => !isLockRefusal(r)),
        ),
        ...nameChecks(archives),
        ...incompleteCheck(archives, backups),
        ...scopeCheck(archives, backups),
        ...lockedCheck(backups),
        drillCheck(
          drillState(verifies, ctx.now()),
          archives,
          ctx.config.health.maxDrillAgeDays,
          ctx.now(),
          await oldestRunAt(ctx.storage, 'backup'),
        ),
      ];
    })),
  );
  for (const notifier of ctx.notifiers) {
    if (notifier.health) {
      const results = await guarded(
        notifier.healthName ?? notifier.id,
        'NOTIFY_FAILED',
        checkTimeoutMs,
        () => notifier.health!(),
      );
      // A mail server that is down must not hide healthy backups: it is a warning.
      checks.push(
        ...results.map((c) => (c.status === 'critical' ? { ...c, status: 'warning' as const } : c)),
      );
    }
  }
  const status = checks.some((c) => c.status === 'critical')
    ? 'CRITICAL'
    : checks.some((c) => c.status === 'warning')
      ? 'WARNING'
      : 'OK';
  return { status, checkedAt: ctx.now().toISOString(), checks };
}

/** The newest records of one kind of run, ignoring records dated later than the clock allows. */
async function recentRuns(
  ctx: EngineContext,
  kind: RunRecord['kind'],
  limit: number,
): Promise<RunRecord[]> {
  const latest = new Date(ctx.now().getTime() + ARCHIVE_CLOCK_SKEW_MS).toISOString();
  const runs = await readHistory(ctx.storage, { kinds: [kind], limit }, ctx.cipher);
  return runs.filter((r) => r.startedAt <= latest);
}

/**
 * The age of the newest archive that counts as a backup (indexed, not named in the future):
 * a file's name alone never makes the backups look fresh.
 */
function lastBackupChecks(
  ctx: EngineContext,
  archives: ArchiveInfo[],
  lastRun: RunRecord | undefined,
): HealthCheck[] {
  const { maxAgeHours } = ctx.config.health;
  const newestArchive = archives.find(isCounted);
  const ignored = archives.filter((a) => a.untrusted).length;
  const ignoredNote = ignored
    ? ` (${ignored} file(s) named like archives do not count: see \`lifeboat list\`)`
    : '';
  if (!newestArchive) {
    return [
      {
        name: 'last-backup',
        status: 'critical',
        message: lastRun
          ? `No archive in ${ctx.storage.describe()}, although backups ran (the last at ${lastRun.startedAt}${lastRun.ok ? '' : `, failed: ${lastRun.error?.code ?? 'unknown error'}`}): no backup can be restored${ignoredNote}`
          : `No successful backup exists in ${ctx.storage.describe()}${ignoredNote}`,
      },
    ];
  }
  const newest = newestArchive.createdAt;
  const age = ctx.now().getTime() - Date.parse(newest);
  const failed = lastRun && !lastRun.ok && lastRun.startedAt >= newest ? lastRun : undefined;
  const failedSince = failed
    ? `; the last run (${failed.startedAt}) failed: ${failed.error?.code ?? 'unknown error'}`
    : '';
  return [
    {
      name: 'last-backup',
      status: age > maxAgeHours * 3600_000 ? 'critical' : failed ? 'warning' : 'ok',
      message: `Last success ${hours(age)} h ago (limit ${maxAgeHours} h)${failedSince}${ignoredNote}`,
      details: {
        lastSuccessAt: newest,
        lastSuccessId: newestArchive.id,
        ageHours: Number(hours(age)),
        maxAgeHours,
        ...(failed ? { lastFailureAt: failed.startedAt, lastFailureCode: failed.error?.code } : {}),
      },
    },
  ];
}

/**
 * The newest backup lacks objects (BACKUP_ALLOW_INCOMPLETE): a WARNING for as long as it is the
 * newest, so an allowed gap is never forgotten.
 */
function incompleteCheck(archives: ArchiveInfo[], backups: RunRecord[]): HealthCheck[] {
  const newest = archives.find(isCounted);
  const run = newest && backups.find((r) => r.ok && r.id === newest.id);
  if (!newest || !run?.incomplete) return [];
  const named = run.leftOut?.map((o) => `${o.kind} ${o.name}`) ?? [];
  return [
    {
      name: 'backup-complete',
      status: 'warning',
      message: `BACKUP_INCOMPLETE: the newest backup ${newest.id} lacks ${run.incomplete} object(s)${named.length ? `: ${named.slice(0, 5).join(', ')}${named.length > 5 ? ', …' : ''}` : ''}; it will not restore the database whole`,
      details: { code: 'BACKUP_INCOMPLETE', id: newest.id, count: run.incomplete },
    },
  ];
}

/**
 * The newest backup took part of the database, as it was told (a filter file, BACKUP_SCHEMAS…):
 * said, so nobody counts on it to restore what it was told to leave out.
 */
function scopeCheck(archives: ArchiveInfo[], backups: RunRecord[]): HealthCheck[] {
  const newest = archives.find(isCounted);
  const run = newest && backups.find((r) => r.ok && r.id === newest.id);
  if (!newest || !run?.partial) return [];
  const rules = run.scope ? `: ${run.scope.join('; ')}` : ' (its rules are sealed)';
  return [
    {
      name: 'backup-scope',
      status: 'ok',
      message: `the newest backup ${newest.id} holds part of what is configured, as told${rules}`,
      details: { id: newest.id, ...(run.scope ? { scope: run.scope } : {}) },
    },
  ];
}

/** Archive names later than the clock allows: a clock jump or another tool's files, never trusted. */
function nameChecks(archives: ArchiveInfo[]): HealthCheck[] {
  const future = archives.filter((a) => a.untrusted?.code === 'ARCHIVE_IN_FUTURE');
  if (future.length === 0) return [];
  return [
    {
      name: 'archive-names',
      status: 'warning',
      message: `ARCHIVE_IN_FUTURE: ${future.length} file(s) named later than now, not counted as backups: ${future
        .slice(0, 3)
        .map((a) => a.file)
        .join(', ')}${future.length > 3 ? ', …' : ''}`,
      details: { code: 'ARCHIVE_IN_FUTURE', files: future.map((a) => a.file) },
    },
  ];
}
