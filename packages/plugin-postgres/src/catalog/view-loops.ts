import { qualified, quoteIdent } from '../connection.js';
import type { ObjectKey, ViewObj } from './model.js';

/**
 * Views that read each other in a loop, or a view that reads itself, cannot be created in any
 * order. As pg_dump does (createDummyViewAsClause), such a view is created at its place as a
 * placeholder with the right columns (`SELECT NULL::type AS column`), so what reads it can be
 * created, and is replaced by its definition once everything else exists (CREATE OR REPLACE
 * VIEW keeps the columns). pg_dump does not do this for a view that reads itself, whose
 * restore then fails; here it does.
 */
export interface ViewLoopPlan {
  /** Views created as placeholders at their place, defined at the end. */
  deferred: ViewObj[];
  /** Placeholders an object other than a view needs first (defined at their own place). */
  before: Map<ObjectKey, ViewObj[]>;
  /** Views already there as placeholders when their place comes. */
  replaced: Set<ObjectKey>;
}

export function planViewLoops(
  ordered: readonly { key: ObjectKey; kind: string; obj: unknown }[],
  dependencies: readonly [ObjectKey, ObjectKey][],
): ViewLoopPlan {
  const views = new Map<ObjectKey, ViewObj>();
  for (const o of ordered) {
    const v = o.obj as ViewObj;
    if (o.kind === 'view' && v.kind === 'v') views.set(o.key, v);
  }
  const plan: ViewLoopPlan = { deferred: [], before: new Map(), replaced: new Set() };
  if (views.size === 0) return plan;
  const needs = new Map<ObjectKey, ObjectKey[]>();
  for (const [src, ref] of dependencies) {
    if (views.has(ref)) needs.set(src, [...(needs.get(src) ?? []), ref]);
  }
  const created = new Set<ObjectKey>();
  for (const o of ordered) {
    const view = views.get(o.key);
    const missing = (needs.get(o.key) ?? []).filter((ref) => !created.has(ref));
    if (view) {
      if ((missing.length > 0 || view.selfReferencing) && !plan.replaced.has(o.key))
        plan.deferred.push(view);
    } else {
      for (const ref of missing) {
        plan.replaced.add(ref);
        created.add(ref);
        plan.before.set(o.key, [...(plan.before.get(o.key) ?? []), views.get(ref)!]);
      }
    }
    created.add(o.key);
  }
  return plan;
}

/** A view with the columns (names, types, collations) of `v` and no rows. */
export function placeholderView(v: ViewObj): string {
  const columns = v.columns.map(
    (c) =>
      `NULL::${c.type}${c.collation ? ` COLLATE ${c.collation}` : ''} AS ${quoteIdent(c.name)}`,
  );
  return `CREATE VIEW ${qualified(v.schema, v.name)} AS\n SELECT ${columns.join(',\n    ')};\n`;
}
