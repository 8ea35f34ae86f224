import { newestFirst } from '../archive/naming.js';
import type { RetentionPolicy } from '../config.js';

export interface RetentionCandidate {
  id: string;
  createdAt: string;
}

export interface RetentionPlan {
  keep: { id: string; reasons: string[] }[];
  remove: { id: string; reason: string }[];
}

const pad = (n: number) => String(n).padStart(2, '0');
const dayKey = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const monthKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
/** ISO 8601 week, e.g. 2026-W48. */
function weekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dayNum = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dayNum);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

/** Whether the policy has at least one rule. A policy without any rule removes nothing. */
export const hasRetentionRule = (policy: RetentionPolicy) =>
  policy.days !== undefined ||
  Boolean(policy.keepLast || policy.keepDaily || policy.keepWeekly || policy.keepMonthly);

/**
 * Decides which archives stay, restic-style: an archive kept by any rule stays. Whatever the
 * policy says, the newest archive always stays, so a prune can never delete everything; and a
 * policy without any rule keeps everything (as `restic forget` without a policy does).
 */
export function planRetention(
  archives: RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
): RetentionPlan {
  const unique = new Map<string, RetentionCandidate>();
  for (const a of archives) {
    // The same id twice (a copy `.tar.gz` beside a `.tar.gz.age`) is one backup.
    const seen = unique.get(a.id);
    if (!seen || a.createdAt > seen.createdAt) unique.set(a.id, a);
  }
  const sorted = [...unique.values()].sort(newestFirst);
  const reasons = new Map<string, string[]>(sorted.map((a) => [a.id, []]));
  const add = (id: string, reason: string) => reasons.get(id)!.push(reason);

  if (sorted[0]) add(sorted[0].id, 'newest archive (always kept)');
  if (!hasRetentionRule(policy))
    for (const a of sorted) add(a.id, 'no retention rule is set (nothing is removed)');
  if (policy.days !== undefined) {
    const cutoff = now.getTime() - policy.days * 86400_000;
    for (const a of sorted)
      if (Date.parse(a.createdAt) >= cutoff) add(a.id, `younger than ${policy.days} days`);
  }
  if (policy.keepLast)
    for (const a of sorted.slice(0, policy.keepLast))
      add(a.id, `one of the last ${policy.keepLast}`);
  const buckets = (n: number | undefined, key: (d: Date) => string, label: string) => {
    if (!n) return;
    const seen = new Set<string>();
    for (const a of sorted) {
      const k = key(new Date(a.createdAt));
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      add(a.id, `${label} ${k}`);
    }
  };
  buckets(policy.keepDaily, dayKey, 'daily');
  buckets(policy.keepWeekly, weekKey, 'weekly');
  buckets(policy.keepMonthly, monthKey, 'monthly');

  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const a of sorted) {
    const r = reasons.get(a.id)!;
    if (r.length > 0) plan.keep.push({ id: a.id, reasons: r });
    else {
      const age = Math.floor((now.getTime() - Date.parse(a.createdAt)) / 86400_000);
      plan.remove.push({ id: a.id, reason: `${age} days old and kept by no rule` });
    }
  }
  return plan;
}
