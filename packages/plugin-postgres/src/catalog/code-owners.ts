import type { PgClient } from '../connection.js';

/**
 * Who wrote the code each post-data step runs: for every index (`c:<oid>`), constraint
 * (`k:<oid>`) and materialized view (`c:<oid>`, with its indexes, which its refresh fills) of the
 * selected relations, and every domain check (`d:<type oid>/<name>`), the owners of the functions it calls: found through pg_depend from the
 * index, the constraint or the view's query, through operators, operator classes and families,
 * types and domain constraints, views read (their queries), and functions with SQL bodies.
 * Built-in objects (OID below 16384), pg_catalog and functions of extensions are left out: they
 * are trusted. A restore whose relation owner could not be set skips a step calling code of a
 * role it may not trust (see step-guard.ts), instead of running that code as the restoring user.
 */
export const CODE_OWNERS = `WITH RECURSIVE roots(root, classid, objid) AS (
  SELECT 'c:' || i.indexrelid, 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid
    FROM pg_catalog.pg_index i WHERE i.indrelid IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[]))
  UNION ALL
  SELECT 'k:' || c.oid, 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid
    FROM pg_catalog.pg_constraint c WHERE c.conrelid IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[])) AND c.contype IN ('c', 'f', 'p', 'u', 'x')
  UNION ALL
  SELECT 'k:' || c.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, c.conindid
    FROM pg_catalog.pg_constraint c WHERE c.conrelid IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[])) AND c.conindid <> 0
  UNION ALL
  SELECT 'c:' || i.indrelid, 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class m ON m.oid = i.indrelid
    WHERE m.relkind = 'm' AND i.indrelid IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[]))
  UNION ALL
  -- Domain checks, for every row of a column of the domain (domain-checks.ts): d:<type>/<name>.
  SELECT 'd:' || c.contypid || '/' || c.conname, 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid
    FROM pg_catalog.pg_constraint c WHERE c.contypid <> 0 AND c.contype = 'c'
  UNION ALL
  SELECT 'c:' || r.ev_class, 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid
    FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class m ON m.oid = r.ev_class
    WHERE m.relkind = 'm' AND r.ev_class IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[]))
), walk(root, classid, objid) AS (
  SELECT * FROM roots
  UNION
  SELECT w.root, n.classid, n.objid FROM walk w, LATERAL (
    SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d
      WHERE d.classid = w.classid AND d.objid = w.objid AND d.deptype <> 'e' AND d.refobjid >= 16384
        AND (w.classid <> 'pg_catalog.pg_class'::pg_catalog.regclass
          OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = w.objid) = 'i')
        AND w.classid IN ('pg_catalog.pg_class'::pg_catalog.regclass, 'pg_catalog.pg_proc'::pg_catalog.regclass,
          'pg_catalog.pg_operator'::pg_catalog.regclass, 'pg_catalog.pg_opclass'::pg_catalog.regclass,
          'pg_catalog.pg_amproc'::pg_catalog.regclass, 'pg_catalog.pg_amop'::pg_catalog.regclass,
          'pg_catalog.pg_type'::pg_catalog.regclass, 'pg_catalog.pg_constraint'::pg_catalog.regclass,
          'pg_catalog.pg_rewrite'::pg_catalog.regclass)
    UNION ALL
    SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid FROM pg_catalog.pg_rewrite r
      WHERE w.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.ev_class = w.objid
        AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = w.objid) IN ('v', 'm')
    UNION ALL
    SELECT 'pg_catalog.pg_amproc'::pg_catalog.regclass, a.oid FROM pg_catalog.pg_amproc a
      WHERE w.classid = 'pg_catalog.pg_opfamily'::pg_catalog.regclass AND a.amprocfamily = w.objid
    UNION ALL
    SELECT 'pg_catalog.pg_amop'::pg_catalog.regclass, a.oid FROM pg_catalog.pg_amop a
      WHERE w.classid = 'pg_catalog.pg_opfamily'::pg_catalog.regclass AND a.amopfamily = w.objid
    UNION ALL
    SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid FROM pg_catalog.pg_constraint c
      WHERE w.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND c.contypid = w.objid
  ) n(classid, objid)
)
SELECT w.root, pg_catalog.array_agg(DISTINCT pg_catalog.pg_get_userbyid(p.proowner)::text ORDER BY pg_catalog.pg_get_userbyid(p.proowner)::text) AS owners
FROM walk w JOIN pg_catalog.pg_proc p ON p.oid = w.objid
WHERE w.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
    AND e.objid = p.oid AND e.deptype = 'e')
GROUP BY w.root`;

/** `c:<oid>` / `k:<oid>` / `d:<type oid>/<name>` -> owners of the functions the step runs (only steps that run some). */
export async function readCodeOwners(
  client: PgClient,
  relOids: number[],
): Promise<Map<string, string[]>> {
  // The recursive query looks expensive to the planner; JIT would compile it for longer than it
  // runs (1.9 s against 0.3 s for 3,000 tables). Off for this query only.
  const { rows: settings } = await client.query("SELECT pg_catalog.current_setting('jit') AS jit");
  await client.query("SELECT pg_catalog.set_config('jit', 'off', false)");
  let rows: { root: string; owners: string[] }[];
  try {
    rows = (await client.query(CODE_OWNERS, [relOids])).rows;
  } finally {
    await client.query("SELECT pg_catalog.set_config('jit', $1, false)", [settings[0].jit]);
  }
  return new Map(rows.map((r) => [r.root, r.owners]));
}
