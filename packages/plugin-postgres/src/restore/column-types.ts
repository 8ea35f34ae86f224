import { LifeboatError } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { pgCode, pgMessage } from '../errors.js';
import type { TableSummary } from '../summary.js';

/**
 * What format_type prints: names (plain or double-quoted), dots, integer type modifiers, array
 * brackets and spaces. Nothing else may stand in a type taken from a manifest: no comment,
 * string, operator, parameter or statement end.
 */
const TYPE_TOKENS = /^(?:\s+|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*|\d+|[.,()[\]])*$/;

/**
 * The column types of a table to create from the manifest (a side-by-side restore), each
 * checked by the server as a type (`::regtype`, which parses nothing but a type name with
 * constant modifiers) and, where the server can (PostgreSQL 17+), printed back by format_type
 * from what it parsed. The manifest is data, not SQL: a type that is anything else is refused.
 */
export async function checkedColumnTypes(
  client: PgClient,
  table: TableSummary,
  version: number,
): Promise<string[]> {
  const types: string[] = [];
  for (const column of table.columns) {
    const text = typeof column.type === 'string' ? column.type : '';
    const invalid = (why: string, cause?: unknown) =>
      new LifeboatError(
        'MANIFEST_INVALID',
        `The manifest gives column ${column.name} of ${table.name} the type ${JSON.stringify(text)}, ${why}`,
        {
          hint: 'Use another archive: this manifest was altered, or the type is missing on the target (create it, or restore the whole database).',
          ...(cause ? { cause } : {}),
        },
      );
    if (text.trim() === '' || !TYPE_TOKENS.test(text)) throw invalid('which is not a type name');
    try {
      const { rows } = await client.query(
        version >= 170000
          ? 'SELECT pg_catalog.format_type($1::text::pg_catalog.regtype, pg_catalog.to_regtypemod($1::text)) AS type'
          : 'SELECT pg_catalog.format_type($1::text::pg_catalog.regtype, NULL) AS type',
        [text],
      );
      const type = version >= 170000 ? (rows[0].type as string) : text;
      types.push(await withCollation(client, type, column.collation, invalid));
    } catch (error) {
      if (error instanceof LifeboatError) throw error;
      const code = pgCode(error);
      if (code === '42704') throw invalid('which this server does not have', error);
      if (code?.startsWith('42') || code?.startsWith('22'))
        throw invalid(`which the server refuses as a type (${pgMessage(error)})`, error);
      throw error;
    }
  }
  return types;
}

/**
 * A column's own collation, checked by the server as a collation name (`::regcollation` parses
 * nothing else) and quoted as the server prints it back.
 */
async function withCollation(
  client: PgClient,
  type: string,
  collation: unknown,
  invalid: (why: string, cause?: unknown) => LifeboatError,
): Promise<string> {
  if (collation === undefined || collation === null) return type;
  if (typeof collation !== 'string' || collation.trim() === '')
    throw invalid('with a collation that is not a name');
  try {
    const { rows } = await client.query(
      'SELECT $1::text::pg_catalog.regcollation::text AS collation',
      [collation],
    );
    return `${type} COLLATE ${rows[0].collation as string}`;
  } catch (error) {
    throw invalid(
      `with the collation ${JSON.stringify(collation)}, which this server refuses (${pgMessage(error)})`,
      error,
    );
  }
}
