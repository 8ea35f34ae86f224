import type { HealthCheck } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import type { ArchiveTrust } from './archive-trust.js';
import { listArchives } from './archives.js';
import type { EngineContext } from './context.js';
import { drillCheck, drillState } from './health-runs.js';
import { type RunRecord, readHistory } from './history.js';
import { isLockRefusal, lockedInARow } from './locked-runs.js';

function checkDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 3660) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `days must be a whole number from 1 to 3660, not ${days}`,
    );
  }
}

export interface StatusReport {
  lastSuccess?: {
    id?: string;
    at: string;
    ageHours: number;
    bytes?: number;
    durationMs: number;
    /** Objects the archive lacks (BACKUP_ALLOW_INCOMPLETE): a health WARNING while it is the newest. */
    incomplete?: number;
    leftOut?: string[];
  };
  lastFailure?: { at: string; code?: string; message?: string };
  lastVerify?: { id?: string; at: string; ok: boolean; deep: boolean };
  /** The archives that count as backups (indexed, not named in the future). */
  archives: {
    count: number;
    totalBytes: number;
    newest?: string;
    oldest?: string;
    /** Files named like archives that do not count, and why (ARCHIVE_IN_FUTURE, ARCHIVE_NOT_INDEXED). */
    untrusted: ({ id: string; file: string } & ArchiveTrust)[];
  };
  recentRuns: RunRecord[];
  /** The restore drill (verify --deep) as health judges it: ok, failed (critical) or overdue (warning). */
  drill: {
    status: HealthCheck['status'];
    message: string;
    lastGoodAt?: string;
    lastFailedAt?: string;
  };
  /** Backup attempts refused for the lock in a row (3 or more: a stuck lock, health WARNING). */
  lockedInARow: number;
  successRate: { days: number; runs: number; succeeded: number; rate: number | null };
  notificationFailures: { at: string; notifier: string; error?: string }[];
}

export async function status(ctx: EngineContext, days = 30): Promise<StatusReport> {
  checkDays(days);
  await ctx.ready(undefined, { create: false });
  const history = await readHistory(ctx.storage, {}, ctx.cipher);
  const listed = await listArchives(ctx);
  const archives = listed.filter((a) => !a.untrusted);
  const now = ctx.now().getTime();
  const drill = drillCheck(
    drillState(history, ctx.now()),
    listed,
    ctx.config.health.maxDrillAgeDays,
    ctx.now(),
    history.filter((r) => r.kind === 'backup').at(-1)?.startedAt,
  );
  const lockedRuns = lockedInARow(history.filter((r) => r.kind === 'backup'));
  // A refusal for the lock is counted apart: most are replicas meeting the run that did the job.
  const backups = history.filter((r) => r.kind === 'backup' && !isLockRefusal(r));
  const ok = backups.find((r) => r.ok);
  const failed = backups.find((r) => !r.ok);
  const verify = history.find((r) => r.kind === 'verify');
  const since = now - days * 86400_000;
  const window = backups.filter((r) => Date.parse(r.startedAt) >= since);
  const succeeded = window.filter((r) => r.ok).length;
  return {
    ...(ok
      ? {
          lastSuccess: {
            ...(ok.id ? { id: ok.id } : {}),
            at: ok.startedAt,
            ageHours: Math.round(((now - Date.parse(ok.startedAt)) / 3600_000) * 10) / 10,
            ...(ok.bytes !== undefined ? { bytes: ok.bytes } : {}),
            durationMs: ok.durationMs,
            ...(ok.incomplete
              ? {
                  incomplete: ok.incomplete,
                  ...(ok.leftOut ? { leftOut: ok.leftOut.map((o) => `${o.kind} ${o.name}`) } : {}),
                }
              : {}),
          },
        }
      : {}),
    ...(failed
      ? {
          lastFailure: {
            at: failed.startedAt,
            ...(failed.error ? { code: failed.error.code, message: failed.error.message } : {}),
          },
        }
      : {}),
    ...(verify
      ? {
          lastVerify: {
            ...(verify.id ? { id: verify.id } : {}),
            at: verify.startedAt,
            ok: verify.ok,
            deep: Boolean(verify.deep),
          },
        }
      : {}),
    archives: {
      count: archives.length,
      totalBytes: archives.reduce((n, a) => n + a.bytes, 0),
      ...(archives[0] ? { newest: archives[0].id } : {}),
      ...(archives.at(-1) ? { oldest: archives.at(-1)!.id } : {}),
      untrusted: listed.flatMap((a) =>
        a.untrusted ? [{ id: a.id, file: a.file, ...a.untrusted }] : [],
      ),
    },
    recentRuns: history.slice(0, 10),
    drill: {
      status: drill.status,
      message: drill.message,
      ...(drill.details?.lastGoodAt ? { lastGoodAt: drill.details.lastGoodAt as string } : {}),
      ...(drill.details?.lastFailedAt
        ? { lastFailedAt: drill.details.lastFailedAt as string }
        : {}),
    },
    lockedInARow: lockedRuns,
    successRate: {
      days,
      runs: window.length,
      succeeded,
      rate: window.length ? succeeded / window.length : null,
    },
    notificationFailures: backups
      .filter((r) => Date.parse(r.startedAt) >= since)
      .flatMap((r) =>
        (r.notifications ?? [])
          .filter((n) => !n.ok)
          .map((n) => ({
            at: r.startedAt,
            notifier: n.notifier,
            ...(n.error ? { error: n.error } : {}),
          })),
      ),
  };
}

export interface DayTrend {
  day: string;
  runs: number;
  succeeded: number;
  successRate: number | null;
  avgDurationMs: number | null;
  maxDurationMs: number | null;
  avgBytes: number | null;
}

/** Per-day trends of backup runs over the last `days` days, oldest first, days without runs included. */
export async function report(ctx: EngineContext, days = 7): Promise<DayTrend[]> {
  checkDays(days);
  await ctx.ready(undefined, { create: false });
  const today = ctx.now();
  const first = new Date(
    Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)),
  );
  const history = (
    await readHistory(ctx.storage, { since: first, kinds: ['backup'] }, ctx.cipher)
  ).filter((r) => !isLockRefusal(r));
  const out: DayTrend[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i),
    );
    const key = d.toISOString().slice(0, 10);
    const runs = history.filter((r) => r.startedAt.slice(0, 10) === key);
    const ok = runs.filter((r) => r.ok);
    const avg = (xs: number[]) =>
      xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null;
    out.push({
      day: key,
      runs: runs.length,
      succeeded: ok.length,
      successRate: runs.length ? ok.length / runs.length : null,
      avgDurationMs: avg(ok.map((r) => r.durationMs)),
      maxDurationMs: ok.length ? Math.max(...ok.map((r) => r.durationMs)) : null,
      avgBytes: avg(ok.filter((r) => r.bytes !== undefined).map((r) => r.bytes!)),
    });
  }
  return out;
}
