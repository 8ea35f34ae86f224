import { qualified, quoteIdent, quoteLiteral } from '../connection.js';
import { SCRIPT_WARNING } from './access.js';
import { AS_OWNER_VARS, asOwnerRun } from './as-owner.js';
import type { Catalog, ConstraintObj, IndexObj, ViewObj } from './model.js';

/** The warning code of a post-data step a restore did not run (see `guardStep`). */
export const STEP_SKIPPED = 'RESTORE_STEP_SKIPPED';

/** Starts the body of every block this file writes: restore-time choices place it by its statement. */
export const GUARD_MARK = '-- lifeboat: guarded step\n';

/** A post-data step that runs functions of the source's roles. */
export interface Step {
  /** What a warning names: `index "s"."i" on "s"."t"`. */
  what: string;
  /** The relation whose owner the server runs the step as (or should have). */
  relation: string;
  /** That relation's owner on the source. */
  owner: string;
  /** Owners (on the source) of the functions the step calls. */
  codeOwners: string[];
  /** `relation` is a domain (a type), not a table. */
  domain?: boolean;
  /**
   * The server runs the step as the current user even when the owner is set (validation of a
   * CHECK or foreign key, a domain's check): it runs as the owner through `asOwnerRun`.
   */
  asOwner?: boolean;
}

/**
 * The steps of post-data that call functions of the source's roles (code-owners.ts): index
 * builds, constraint validation, materialized view refreshes. Undefined for a step that calls
 * none (most of them): it is written as it always was.
 */
export function stepsOf(catalog: Catalog) {
  const code = catalog.codeOwners ?? new Map<string, string[]>();
  const owners = new Map(catalog.owners.map((o) => [o.key, o.owner]));
  const relations = new Map([...catalog.tables, ...catalog.views].map((r) => [r.oid, r]));
  const step = (key: string, relOid: number, what: (rel: string, schema: string) => string) => {
    const codeOwners = code.get(key);
    const rel = relations.get(relOid);
    const owner = owners.get(`c:${relOid}`);
    if (!codeOwners?.length || !rel || owner === undefined) return undefined;
    const relation = qualified(rel.schema, rel.name);
    return { what: what(relation, rel.schema), relation, owner, codeOwners } satisfies Step;
  };
  return {
    index: (i: IndexObj) =>
      step(
        `c:${i.oid}`,
        i.tableOid,
        (rel, schema) => `index ${qualified(schema, i.name)} on ${rel}`,
      ),
    // A constraint added NOT VALID checks no row: nothing runs.
    constraint: (c: ConstraintObj) => {
      if (/\bNOT VALID$/.test(c.def)) return undefined;
      const s = step(
        `k:${c.oid}`,
        c.tableOid,
        (rel) => `constraint ${quoteIdent(c.name)} on ${rel}`,
      );
      return s && { ...s, asOwner: c.type === 'c' || c.type === 'f' };
    },
    matview: (v: ViewObj) =>
      step(`c:${v.oid}`, v.oid, (rel) => `refresh of materialized view ${rel}`),
  };
}

/**
 * `statement` (without its `;`), run only where it cannot run a function of another role as the
 * restoring user. The server builds an index or refreshes a materialized view as the relation's
 * owner, in its security-restricted mode; where that owner could not be given (--no-owner, a
 * role missing here, a restoring role that may not act as it) the relation stays with the
 * restoring user, and the step would run the source roles' functions as that user (a superuser,
 * in a drill). Then the step runs only when every role whose functions it calls may already act
 * as the restoring user (a superuser, the user itself or a role it is a member of); otherwise
 * it is skipped with a RESTORE_STEP_SKIPPED warning that says how to run it. `fallback` runs
 * instead (a constraint added NOT VALID: it holds for new rows, no existing row is checked).
 * A CHECK or foreign key, or a domain's check (`step.asOwner`), the server validates as the
 * current user even where the owner is set: calling code of a role that may not act as the
 * restoring user, it runs as the owner through a SECURITY DEFINER wrapper (as-owner.ts).
 * The check runs in the target database at restore time, so psql alone does the same.
 */
export function guardStep(statement: string, step: Step, fallback?: string): string {
  const head = `${SCRIPT_WARNING}${STEP_SKIPPED}: ${step.what} not run: `;
  const how = `; run it as a superuser once those roles exist here, or as ${step.owner}: ${statement}`;
  const fallbackRun = fallback
    ? `BEGIN EXECUTE ${quoteLiteral(fallback)}; done := ${quoteLiteral(` (added NOT VALID instead: ${fallback})`)}; EXCEPTION WHEN OTHERS THEN NULL; END;\n    `
    : '';
  const ownerOf = step.domain
    ? `pg_catalog.pg_get_userbyid(t.typowner) INTO runner FROM pg_catalog.pg_type t
  WHERE t.oid = pg_catalog.to_regtype(${quoteLiteral(step.relation)})`
    : `pg_catalog.pg_get_userbyid(c.relowner) INTO runner FROM pg_catalog.pg_class c
  WHERE c.oid = pg_catalog.to_regclass(${quoteLiteral(step.relation)})`;
  // Where the owner may not add it, the constraint is added NOT VALID, with a warning.
  const denied = `${fallbackRun}RAISE WARNING '%', ${quoteLiteral(head)} || 'its owner ' || runner || ' may not add it: ' || SQLERRM || done || ${quoteLiteral(how)};`;
  const asOwner = step.asOwner
    ? `IF untrusted IS NOT NULL AND runner = ${quoteLiteral(step.owner)} AND runner <> current_user THEN
  ${asOwnerRun(statement, step.what, denied)}
END IF;
`
    : '';
  const body = `${GUARD_MARK}DECLARE runner text; untrusted text; done text := '';${step.asOwner ? ` ${AS_OWNER_VARS}` : ''}
BEGIN
SELECT ${ownerOf};
SELECT pg_catalog.string_agg(r, ', ') INTO untrusted
FROM pg_catalog.unnest(ARRAY[${step.codeOwners.map(quoteLiteral).join(', ')}]::text[]) AS r
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles o
  WHERE o.rolname = r AND pg_catalog.pg_has_role(o.oid, current_user, 'USAGE'));
${asOwner}IF runner IS DISTINCT FROM ${quoteLiteral(step.owner)} THEN
  IF untrusted IS NOT NULL THEN
    ${fallbackRun}RAISE WARNING '%', ${quoteLiteral(head)} || 'it calls functions of ' || untrusted
      || ' (missing here, or not allowed to act as ' || current_user || ') and ' || ${quoteLiteral(step.relation)}
      || ' is owned by ' || COALESCE(runner, current_user) || ', not ' || ${quoteLiteral(step.owner)}
      || ' (its owner could not be set), so they would run as ' || current_user || done || ${quoteLiteral(how)};
    RETURN;
  END IF;
END IF;
EXECUTE ${quoteLiteral(statement)};
END`;
  return `DO ${quoteLiteral(body)};\n`;
}

/** `statement` (without its `;`), run only when `present` (SQL) holds: it is about a guarded step's object. */
export function ifPresent(statement: string, present: string): string {
  return `DO ${quoteLiteral(`${GUARD_MARK}BEGIN IF ${present} THEN EXECUTE ${quoteLiteral(statement)}; END IF; END`)};\n`;
}

/** SQL: the index exists. */
export const indexPresent = (schema: string, name: string) =>
  `pg_catalog.to_regclass(${quoteLiteral(qualified(schema, name))}) IS NOT NULL`;

/** SQL: the constraint exists on its table. */
export const constraintPresent = (relation: string, name: string) =>
  `EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = pg_catalog.to_regclass(${quoteLiteral(relation)}) AND conname = ${quoteLiteral(name)})`;
