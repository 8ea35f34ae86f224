import { randomBytes } from 'node:crypto';
import type { HealthCheck, HealthReport } from '../contracts.js';
import { listArchives } from '../engine/archives.js';
import type { EngineContext } from '../engine/context.js';
import { META_PREFIX, readHistory } from '../engine/history.js';
import { toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';

const hours = (ms: number) => (ms / 3600_000).toFixed(1);

async function guarded(name: string, check: () => Promise<HealthCheck[]>): Promise<HealthCheck[]> {
  try {
    return await check();
  } catch (error) {
    const e = toLifeboatError(error);
    return [{ name, status: 'critical', message: redact(`${e.code}: ${e.message}`) }];
  }
}

/**
 * Answers "are the backups OK?", not "is it running": database reachable, storage reachable and
 * writable, free space, age of the last success, mail server. Each check has a status; the
 * worst one is the whole.
 */
export async function checkHealth(ctx: EngineContext): Promise<HealthReport> {
  const { maxAgeHours, minFreeBytes } = ctx.config.health;
  const checks: HealthCheck[] = [];
  for (const source of ctx.sources) {
    if (source.health) {
      checks.push(
        ...(await guarded(source.id, async () => {
          await ctx.sourceReady(source);
          return source.health!();
        })),
      );
    }
  }
  checks.push(
    ...(await guarded('storage', async () => {
      await ctx.ready();
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
      ...(await guarded('free-space', async () => {
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
    ...(await guarded('last-backup', async () => {
      const history = await readHistory(ctx.storage);
      const lastOk = history.find((r) => r.kind === 'backup' && r.ok);
      const archives = await listArchives(ctx);
      const newest = lastOk?.startedAt ?? archives[0]?.createdAt;
      if (!newest)
        return [
          { name: 'last-backup', status: 'critical', message: 'No successful backup exists' },
        ];
      const age = ctx.now().getTime() - Date.parse(newest);
      const lastRun = history.find((r) => r.kind === 'backup');
      const failedSince =
        lastRun && !lastRun.ok ? `; the last run failed: ${lastRun.error?.code}` : '';
      return [
        {
          name: 'last-backup',
          status:
            age > maxAgeHours * 3600_000 ? 'critical' : lastRun && !lastRun.ok ? 'warning' : 'ok',
          message: `Last success ${hours(age)} h ago (limit ${maxAgeHours} h)${failedSince}`,
          details: { lastSuccessAt: newest, ageHours: Number(hours(age)), maxAgeHours },
        },
      ];
    })),
  );
  for (const notifier of ctx.notifiers) {
    if (notifier.health) {
      const results = await guarded(notifier.id, () => notifier.health!());
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
