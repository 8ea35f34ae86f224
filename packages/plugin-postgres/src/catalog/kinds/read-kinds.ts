import { type PgClient, quoteLiteral } from '../../connection.js';
import type { GenericObj, OwnerObj, PrivilegeObj } from '../model.js';
import { kindRows } from './sql.js';

/** One object kind: the catalog it lives in, where pg_dump puts it among ties, its query. */
export interface KindSpec {
  kind: string;
  catalog: string;
  rank: number;
  /** The kind query for this server (see sql.ts), or null when the server has no such kind. */
  query: (versionNum: number) => string | null;
}

export interface KindObjects {
  objects: GenericObj[];
  owners: OwnerObj[];
  privileges: PrivilegeObj[];
}

interface Privilege {
  /** Of a column privilege. */
  column?: string;
  privilege: string;
  grantable: boolean;
  grantee: string | null;
  toOwner: boolean;
}

/** Reads the objects of each kind with their owners and privileges. */
export async function readKinds(
  client: PgClient,
  kinds: readonly KindSpec[],
  versionNum: number,
): Promise<KindObjects> {
  const out: KindObjects = { objects: [], owners: [], privileges: [] };
  for (const spec of kinds) {
    const query = spec.query(versionNum);
    if (!query) continue;
    // biome-ignore lint/suspicious/noExplicitAny: rows straight from the catalog
    const { rows } = await client.query<any>(kindRows(spec.catalog, query));
    for (const r of rows) {
      const comment =
        r.comment !== null && r.comment_target !== null
          ? `COMMENT ON ${r.comment_target} IS ${quoteLiteral(r.comment)};\n`
          : '';
      out.objects.push({
        key: r.key,
        kind: spec.kind,
        oid: Number(r.oid),
        schema: r.schema ?? null,
        rank: spec.rank,
        sortName: r.sort_name,
        ddl: `${String(r.ddl).trimEnd()}\n${comment}`,
        needs: r.needs ?? [],
        shell: r.shell_ddl ? { ddl: r.shell_ddl, for: r.shell_for ?? [] } : null,
      });
      if (r.owner_target && r.owner)
        out.owners.push({ key: r.key, target: r.owner_target, owner: r.owner });
      if (r.grant_target) out.privileges.push(...objectPrivileges(r));
    }
  }
  return out;
}

/**
 * The privileges of one object, then of its columns (revoking on a table revokes on its
 * columns too: column grants come after).
 */
// biome-ignore lint/suspicious/noExplicitAny: a row straight from the catalog
function objectPrivileges(r: any): PrivilegeObj[] {
  const out: PrivilegeObj[] = [];
  if (r.has_acl) {
    const privileges: Privilege[] = r.privileges ?? [];
    // An ACL with nothing left in it: every privilege was taken, PUBLIC's too.
    if (privileges.length === 0)
      out.push({
        kind: 'object',
        key: r.key,
        target: r.grant_target,
        column: null,
        privilege: null,
        grantable: false,
        grantee: null,
        toOwner: false,
      });
    for (const p of privileges)
      out.push({ kind: 'object', key: r.key, target: r.grant_target, column: null, ...p });
  }
  for (const { column, ...p } of (r.column_privileges ?? []) as Privilege[])
    out.push({ kind: 'column', key: r.key, target: r.grant_target, column: column!, ...p });
  return out;
}
