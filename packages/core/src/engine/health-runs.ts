import type { HealthCheck } from '../contracts.js';
import { ARCHIVE_CLOCK_SKEW_MS } from './archive-trust.js';
import type { ArchiveInfo } from './archives.js';
import type { RunRecord } from './history.js';
import { LOCKED_RUNS_ALERT, lockedInARow } from './locked-runs.js';

const DAY = 86400_000;
const days = (ms: number) => (ms / DAY).toFixed(1);

/** What a restore drill check needs from the history: the newest deep verifies. */
export interface DrillState {
  lastGood?: RunRecord;
  lastFailed?: RunRecord;
}

/** The newest passed and failed restore drills (verify --deep), ignoring records dated in the future. */
export function drillState(verifies: RunRecord[], now: Date): DrillState {
  const limit = new Date(now.getTime() + ARCHIVE_CLOCK_SKEW_MS).toISOString();
  const drills = verifies.filter(
    (r) => r.kind === 'verify' && r.deep && !r.cancelled && r.startedAt <= limit,
  );
  const lastGood = drills.find((r) => r.ok);
  const lastFailed = drills.find((r) => !r.ok);
  return { ...(lastGood ? { lastGood } : {}), ...(lastFailed ? { lastFailed } : {}) };
}

/**
 * A backup nobody has restored is a hope. A failed drill newer than the last good one is
 * CRITICAL (the archives may not restore); no good drill for maxDrillAgeDays is a WARNING. A
 * setup whose first counted archive is younger than that is not overdue yet.
 */
export function drillCheck(
  state: DrillState,
  archives: ArchiveInfo[],
  maxDrillAgeDays: number,
  now: Date,
  /** When the oldest recorded backup run started. */
  firstBackupAt?: string,
): HealthCheck {
  const { lastGood, lastFailed } = state;
  const limitMs = maxDrillAgeDays * DAY;
  const details = {
    maxDrillAgeDays,
    ...(lastGood ? { lastGoodAt: lastGood.startedAt, lastGoodId: lastGood.id } : {}),
    ...(lastFailed ? { lastFailedAt: lastFailed.startedAt, lastFailedId: lastFailed.id } : {}),
  };
  if (lastFailed && (!lastGood || lastFailed.startedAt > lastGood.startedAt)) {
    const why = lastFailed.problems?.[0]?.code ?? lastFailed.error?.code ?? 'problems found';
    return {
      name: 'restore-drill',
      status: 'critical',
      message: `DRILL_FAILED: the last restore drill (verify --deep of ${lastFailed.id ?? 'an archive'} at ${lastFailed.startedAt}) failed: ${why}; ${lastGood ? `the last good one was at ${lastGood.startedAt}` : 'none has ever passed'}`,
      details: { ...details, code: 'DRILL_FAILED' },
    };
  }
  if (lastGood) {
    const age = now.getTime() - Date.parse(lastGood.startedAt);
    return age > limitMs
      ? {
          name: 'restore-drill',
          status: 'warning',
          message: `DRILL_OVERDUE: the last good restore drill was ${days(age)} days ago (limit ${maxDrillAgeDays}); run \`lifeboat verify random --deep\``,
          details: { ...details, code: 'DRILL_OVERDUE' },
        }
      : {
          name: 'restore-drill',
          status: 'ok',
          message: `Last good restore drill ${days(age)} days ago (limit ${maxDrillAgeDays})`,
          details,
        };
  }
  // Since the first backup still known: the oldest archive, or the oldest run record (kept 90
  // days, longer than most retention) when older.
  const oldestArchive = archives.filter((a) => !a.untrusted).at(-1)?.createdAt;
  const first = [oldestArchive, firstBackupAt].filter((x): x is string => Boolean(x)).sort()[0];
  const since = first ? now.getTime() - Date.parse(first) : 0;
  return since > limitMs
    ? {
        name: 'restore-drill',
        status: 'warning',
        message: `DRILL_OVERDUE: no restore drill has passed, and backups exist since ${first}; run \`lifeboat verify random --deep\``,
        details: { ...details, code: 'DRILL_OVERDUE' },
      }
    : {
        name: 'restore-drill',
        status: 'ok',
        message: `No restore drill yet; due within ${maxDrillAgeDays} days of the first backup`,
        details,
      };
}

/** Backups refused for the lock LOCKED_RUNS_ALERT times in a row: no backup is being made. */
export function lockedCheck(backups: RunRecord[]): HealthCheck[] {
  const inARow = lockedInARow(backups);
  if (inARow < LOCKED_RUNS_ALERT) return [];
  const last = backups[0]!;
  return [
    {
      name: 'backup-lock',
      status: 'warning',
      message: `LOCKED_RUNS: the last ${inARow} backups were refused because the lock is held (the last at ${last.startedAt}): ${last.error?.message ?? ''}`,
      details: { code: 'LOCKED_RUNS', lockedInARow: inARow, lastAt: last.startedAt },
    },
  ];
}
