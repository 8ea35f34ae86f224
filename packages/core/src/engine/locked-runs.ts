import type { RunRecord } from './history.js';

/** A backup refused because another run (or anyone who can connect) held the lock. */
export const isLockRefusal = (r: RunRecord) =>
  r.kind === 'backup' && !r.ok && r.error?.code === 'LOCKED';

/** This many refused attempts in a row, with no backup between them, are a WARNING and an alert. */
export const LOCKED_RUNS_ALERT = 3;

/** Refusals this close together are one attempt: replicas of a host all run the same schedule. */
export const ONE_ATTEMPT_MS = 10 * 60_000;

/**
 * How many backup attempts in a row, newest first, were refused for the lock. A refusal that
 * started before the last successful backup finished met the run that did the job, and
 * refusals within ONE_ATTEMPT_MS of each other are one attempt (several replicas); neither is
 * a stuck lock. Any other outcome ends the row.
 */
export function lockedInARow(backups: RunRecord[]): number {
  const lastOk = backups.find((r) => r.ok);
  const finished = lastOk ? Date.parse(lastOk.startedAt) + lastOk.durationMs : -Infinity;
  let count = 0;
  let counted = Infinity;
  for (const r of backups) {
    if (!isLockRefusal(r)) break;
    const at = Date.parse(r.startedAt);
    if (at <= finished || counted - at < ONE_ATTEMPT_MS) continue;
    count++;
    counted = at;
  }
  return count;
}
