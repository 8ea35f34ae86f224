import { LifeboatError } from '@lifeboat/core';
import { type PgClient, qualified, quoteIdent } from '../connection.js';
import { pgCode } from '../errors.js';

/**
 * Replacing a table's rows deletes them first. Held triggers (session_replication_role =
 * replica, a superuser's right) keep that from reaching other tables; without them, foreign keys
 * with ON DELETE CASCADE / SET NULL / SET DEFAULT would empty or change rows of other tables
 * (which the restore never puts back), and ON DELETE triggers and rules would run.
 */

/** Whether this session may hold triggers (tried in a transaction that is rolled back). */
export async function canHoldTriggers(client: PgClient): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    return true;
  } catch (error) {
    if (pgCode(error) === '42501') return false;
    throw error;
  } finally {
    await client.query('ROLLBACK');
  }
}

const ACTIONS: Record<string, string> = { c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/**
 * What deleting the rows of `table` would do beyond it with triggers active: foreign keys from
 * other tables that cascade, set null or set default, and ON DELETE triggers and rules.
 */
export async function deleteEffects(client: PgClient, oid: number): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT 'foreign key ' || pg_catalog.quote_ident(con.conname) || ' of ' || con.conrelid::pg_catalog.regclass::text
         || ' (ON DELETE ' || con.confdeltype::text || ')' AS what
       FROM pg_catalog.pg_constraint con
       WHERE con.contype = 'f' AND con.confrelid = $1 AND con.conrelid <> $1
         AND con.confdeltype IN ('c', 'n', 'd')
     UNION ALL
     SELECT 'trigger ' || pg_catalog.quote_ident(t.tgname) || ' (ON DELETE)' FROM pg_catalog.pg_trigger t
       WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')
         AND (t.tgtype::int & 8) <> 0
     UNION ALL
     SELECT 'rule ' || pg_catalog.quote_ident(r.rulename) || ' (ON DELETE)' FROM pg_catalog.pg_rewrite r
       WHERE r.ev_class = $1 AND r.ev_type = '4' AND r.ev_enabled IN ('O', 'A')
     ORDER BY 1`,
    [oid],
  );
  return rows.map((r) =>
    (r.what as string).replace(
      /\(ON DELETE ([cnd])\)$/,
      (_, a: string) => `(ON DELETE ${ACTIONS[a]})`,
    ),
  );
}

export function cascadeError(found: { table: string; effects: string[] }[]): LifeboatError {
  const list = found.map((f) => `${f.table}: ${f.effects.join(', ')}`).join('; ');
  return new LifeboatError(
    'RESTORE_FAILED',
    `Replacing the rows would reach beyond the restored tables, and this role may not hold triggers (session_replication_role is a superuser's setting): ${list}. Nothing was changed`,
    {
      hint: 'Restore side by side with --as-suffix _restored and copy the rows you need back, or run the restore as a superuser (foreign keys, triggers and rules are then held while rows are replaced).',
      details: { tables: found.map((f) => f.table) },
    },
  );
}

/**
 * Rows of other tables whose foreign key points at no row of the table as restored (rows added
 * since the backup, or rows whose parent the backup did not have): with triggers held, nothing
 * checked them. One count per key.
 */
export async function orphanedRows(
  client: PgClient,
  oid: number,
  table: { schema: string; table: string },
): Promise<{ key: string; child: string; rows: number }[]> {
  const { rows: keys } = await client.query(
    `SELECT con.conname, cn.nspname AS schema, cc.relname AS name,
       pg_catalog.to_json(ARRAY(SELECT a.attname FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY k(n, i)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)) AS columns,
       pg_catalog.to_json(ARRAY(SELECT a.attname FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY k(n, i)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)) AS refs
     FROM pg_catalog.pg_constraint con
     JOIN pg_catalog.pg_class cc ON cc.oid = con.conrelid
     JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
     WHERE con.contype = 'f' AND con.confrelid = $1 AND con.conparentid = 0
     ORDER BY 2, 3, 1`,
    [oid],
  );
  const found: { key: string; child: string; rows: number }[] = [];
  for (const k of keys) {
    const columns = k.columns as string[];
    const refs = k.refs as string[];
    const present = columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const match = columns.map((c, i) => `p.${quoteIdent(refs[i]!)} = c.${quoteIdent(c)}`);
    const { rows } = await client.query(
      `SELECT pg_catalog.count(*)::int8 AS n FROM ${qualified(k.schema, k.name)} c
       WHERE ${present} AND NOT EXISTS (SELECT FROM ${qualified(table.schema, table.table)} p WHERE ${match.join(' AND ')})`,
    );
    const n = Number(rows[0].n);
    if (n > 0) found.push({ key: k.conname, child: `${k.schema}.${k.name}`, rows: n });
  }
  return found;
}
