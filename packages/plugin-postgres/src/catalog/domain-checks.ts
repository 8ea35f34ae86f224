import { qualified, quoteIdent } from '../connection.js';
import type { Catalog, TypeObj } from './model.js';
import { guardStep, type Step } from './step-guard.js';

interface DomainCheck {
  check: TypeObj['constraints'][number];
  step: Step;
}

/**
 * The domain checks that call functions of the source's roles (code-owners.ts). In pre-data,
 * COPY would run them for every row it loads, as the restoring user (PostgreSQL has no
 * security-restricted mode for them). They are left out of CREATE DOMAIN and added in
 * post-data, after the rows, as the domain's owner (step-guard.ts, as-owner.ts). A validated
 * check added later prints as before in pg_dump (inline in CREATE DOMAIN).
 */
export function domainChecksOf(catalog: Catalog): Map<string, DomainCheck> {
  const code = catalog.codeOwners ?? new Map<string, string[]>();
  const owners = new Map(catalog.owners.map((o) => [o.key, o.owner]));
  const out = new Map<string, DomainCheck>();
  for (const t of catalog.types) {
    const owner = owners.get(`t:${t.oid}`);
    if (t.kind !== 'd' || owner === undefined) continue;
    const relation = qualified(t.schema, t.name);
    for (const check of t.constraints) {
      const codeOwners = code.get(`d:${t.oid}/${check.name}`);
      if (!codeOwners?.length) continue;
      const what = `constraint ${quoteIdent(check.name)} on domain ${relation}`;
      const step = { what, relation, owner, codeOwners, domain: true, asOwner: true };
      out.set(`${t.oid}/${check.name}`, { check, step });
    }
  }
  return out;
}

/** The domain without the checks post-data adds (pre-data's CREATE DOMAIN). */
export function withoutLateChecks(t: TypeObj, late: Map<string, DomainCheck>): TypeObj {
  return { ...t, constraints: t.constraints.filter((c) => !late.has(`${t.oid}/${c.name}`)) };
}

/** Post-data: the checks left out of pre-data, each run as the domain's owner. */
export function renderLateDomainChecks(late: Map<string, DomainCheck>): string[] {
  return [...late.values()].map(({ check, step }) => {
    const sql = `ALTER DOMAIN ${step.relation} ADD CONSTRAINT ${quoteIdent(check.name)} ${check.def}`;
    // Added NOT VALID, it checks no value already stored: nothing runs.
    return /\bNOT VALID$/.test(check.def) ? `${sql};\n` : guardStep(sql, step, `${sql} NOT VALID`);
  });
}
