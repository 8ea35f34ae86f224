import { randomBytes } from 'node:crypto';
import type { HealthCheck, HealthReport } from '../contracts.js';
import { withDeadline } from '../deadline.js';
import { listArchives } from '../engine/archives.js';
import type { EngineContext } from '../engine/context.js';
import { META_PREFIX, readHistory } from '../engine/history.js';
import { type ErrorCode, LifeboatError, toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';

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
  const { maxAgeHours, minFreeBytes, checkTimeoutMs } = ctx.config.health;
  const checks: HealthCheck[] = [];
  for (const source of ctx.sources) {
    if (source.health) {
      checks.push(
        ...(await guarded(source.id, 'SOURCE_FAILED', checkTimeoutMs, async () => {
          await ctx.sourceReady(source);
          return source.health!();
        })),
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
      const newestArchive = archives[0];
      // The newest record of a backup run; the newest success is its archive or its record.
      const lastRun = (
        await readHistory(ctx.storage, { kinds: ['backup'], limit: 1 }, ctx.cipher)
      )[0];
      if (!newestArchive) {
        return [
          {
            name: 'last-backup',
            status: 'critical',
            message: lastRun
              ? `No archive in ${ctx.storage.describe()}, although backups ran (the last at ${lastRun.startedAt}${lastRun.ok ? '' : `, failed: ${lastRun.error?.code ?? 'unknown error'}`}): no backup can be restored`
              : `No successful backup exists in ${ctx.storage.describe()}`,
          },
        ];
      }
      const newest =
        lastRun?.ok && lastRun.startedAt > newestArchive.createdAt
          ? lastRun.startedAt
          : newestArchive.createdAt;
      const age = ctx.now().getTime() - Date.parse(newest);
      const failed = lastRun && !lastRun.ok && lastRun.startedAt >= newest ? lastRun : undefined;
      const failedSince = failed
        ? `; the last run (${failed.startedAt}) failed: ${failed.error?.code ?? 'unknown error'}`
        : '';
      return [
        {
          name: 'last-backup',
          status: age > maxAgeHours * 3600_000 ? 'critical' : failed ? 'warning' : 'ok',
          message: `Last success ${hours(age)} h ago (limit ${maxAgeHours} h)${failedSince}`,
          details: {
            lastSuccessAt: newest,
            ageHours: Number(hours(age)),
            maxAgeHours,
            ...(failed
              ? { lastFailureAt: failed.startedAt, lastFailureCode: failed.error?.code }
              : {}),
          },
        },
      ];
    })),
  );
  for (const notifier of ctx.notifiers) {
    if (notifier.health) {
      const results = await guarded(notifier.id, 'NOTIFY_FAILED', checkTimeoutMs, () =>
        notifier.health!(),
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
