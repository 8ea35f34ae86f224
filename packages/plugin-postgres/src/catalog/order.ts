import type { ObjectKey } from './model.js';

export interface Sortable {
  key: ObjectKey;
  /** Tie-breaker and cycle-breaker: types, then functions, sequences, tables, views. */
  rank: number;
  sortName: string;
  /** Breaks a cycle among equal ranks first: the object created first in the source. */
  oid?: number;
}

const before = (a: Sortable, b: Sortable) =>
  a.rank !== b.rank
    ? a.rank - b.rank
    : a.sortName < b.sortName
      ? -1
      : a.sortName > b.sortName
        ? 1
        : 0;

/**
 * Orders objects so that everything an object depends on comes first (Kahn's algorithm, ties
 * broken by rank then name so the output is stable). A dependency cycle cannot be ordered: it is
 * broken at its lowest-ranked object, as pg_dump would have to as well.
 */
export function sortByDependencies<T extends Sortable>(
  objects: readonly T[],
  dependencies: readonly [ObjectKey, ObjectKey][],
): T[] {
  const byKey = new Map(objects.map((o) => [o.key, o]));
  const needs = new Map<ObjectKey, Set<ObjectKey>>();
  const neededBy = new Map<ObjectKey, ObjectKey[]>();
  for (const o of objects) needs.set(o.key, new Set());
  for (const [src, ref] of dependencies) {
    if (src === ref || !byKey.has(src) || !byKey.has(ref)) continue;
    if (needs.get(src)!.has(ref)) continue;
    needs.get(src)!.add(ref);
    neededBy.set(ref, [...(neededBy.get(ref) ?? []), src]);
  }
  const remaining = new Set(objects.map((o) => o.key));
  const ready = objects.filter((o) => needs.get(o.key)!.size === 0).sort(before);
  const out: T[] = [];
  const take = (o: T) => {
    remaining.delete(o.key);
    out.push(o);
    for (const dependent of neededBy.get(o.key) ?? []) {
      const set = needs.get(dependent)!;
      set.delete(o.key);
      if (set.size === 0 && remaining.has(dependent) && !ready.includes(byKey.get(dependent)!)) {
        const d = byKey.get(dependent)!;
        const at = ready.findIndex((r) => before(d, r) < 0);
        ready.splice(at === -1 ? ready.length : at, 0, d);
      }
    }
  };
  while (remaining.size > 0) {
    const next = ready.shift();
    if (next) {
      if (remaining.has(next.key)) take(next);
      continue;
    }
    // A cycle: take the first remaining object in rank order.
    const stuck = objects
      .filter((o) => remaining.has(o.key))
      .sort((a, b) => a.rank - b.rank || (a.oid ?? 0) - (b.oid ?? 0) || before(a, b))[0]!;
    take(stuck);
  }
  return out;
}
