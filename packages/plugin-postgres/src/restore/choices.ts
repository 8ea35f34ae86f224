import { buffer } from 'node:stream/consumers';
import { type ArchiveEntry, hostHint, LifeboatError } from '@lifeboat/core';
import { TABLESPACE_CALL, tablespaceSetting } from '../catalog/tablespaces.js';
import { type FilterRule, parseFilterFile } from '../filter-file.js';
import {
  type NamePattern,
  parseNamePattern,
  schemaMatches,
  tableMatches,
} from '../name-pattern.js';
import { POST_DATA, type PostgresSummary, type TableSummary } from '../summary.js';
import type { PostgresRestoreOptions } from './options.js';
import { placeStatement, type StatementPlace } from './statement-place.js';
import { splitStatements, tokenize } from './statements.js';

/**
 * What a full restore leaves out, as pg_restore's options do: owners (`--no-owner`), grants
 * (`--no-privileges`), policies and row security (`--no-policies`), comments, publications,
 * subscriptions, whole schemas (`--schema`/`--exclude-schema`) and the rows of some tables
 * (`--exclude-table-data`, as pg_dump's). A filter file adds its schema and table_data lines.
 * `--schema-only` leaves out every row, sequence value and large object (pg_restore counts large
 * objects, with their owners and grants, as data); `--data-only` is a restore mode of its own
 * (restore/data-only.ts).
 */
export interface RestoreChoices {
  schemaOnly: boolean;
  dataOnly: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  noPolicies: boolean;
  noComments: boolean;
  noPublications: boolean;
  noSubscriptions: boolean;
  schemas: NamePattern[];
  excludeSchemas: NamePattern[];
  excludeTableData: NamePattern[];
  /** pg_restore --no-tablespaces: every object goes to the target database's default. */
  noTablespaces: boolean;
  /** `--tablespace-map old=new`: objects of the archive's tablespace `old` go to `new`. */
  tablespaceMap: Map<string, string>;
  /**
   * Each archive tablespace's place on the target, once checked there (resolveTablespaces): the
   * mapped name, or '' (the database's default) where the target lacks it.
   */
  tablespaceTargets?: Map<string, string>;
}

/** The choices in restore options (already parsed); a bad pattern or filter line is CONFIG_INVALID. */
export function choicesOf(o: PostgresRestoreOptions): RestoreChoices {
  const rules: FilterRule[] = o.filter ? parseFilterFile(o.filter.text, o.filter.name) : [];
  // As pg_restore --filter: `include table` is -t (filterTables, a restore of those tables);
  // pg_restore has no exclude for tables either.
  const excluded = rules.filter((r) => r.object === 'table' && r.action === 'exclude');
  if (excluded.length > 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `The filter file ${o.filter!.name} has "exclude table" lines (${excluded.map((r) => r.pattern).join('; ')}): a restore takes "include table" only, as pg_restore --filter`,
      {
        hint: hostHint(
          'postgres:exclude-on-restore',
          'leave tables out at backup time (exclude table in the backup filter), or restore the others with include table / the tables option',
        ),
      },
    );
  }
  const from = (object: FilterRule['object'], action: FilterRule['action']) =>
    rules.filter((r) => r.object === object && r.action === action).map((r) => r.pattern);
  const schema = (p: string) => parseNamePattern(p, 1);
  if (o.schemaOnly === true && o.dataOnly === true) {
    // As pg_restore: -s and -a cannot be used together.
    throw new LifeboatError('CONFIG_INVALID', '--schema-only and --data-only cannot go together', {
      hint: 'a full restore is both: give neither',
    });
  }
  return {
    schemaOnly: o.schemaOnly === true,
    dataOnly: o.dataOnly === true,
    noOwner: o.noOwner === true,
    noPrivileges: o.noPrivileges === true,
    noPolicies: o.noPolicies === true,
    noComments: o.noComments === true,
    noPublications: o.noPublications === true,
    noSubscriptions: o.noSubscriptions === true,
    schemas: [...(o.schemas ?? []), ...from('schema', 'include')].map(schema),
    excludeSchemas: [...(o.excludeSchemas ?? []), ...from('schema', 'exclude')].map(schema),
    excludeTableData: [...(o.excludeTableData ?? []), ...from('table_data', 'exclude')].map((p) =>
      parseNamePattern(p),
    ),
    noTablespaces: o.noTablespaces === true,
    tablespaceMap: new Map(Object.entries(o.tablespaceMap ?? {})),
  };
}

/**
 * The `include table` patterns of a restore's filter file: a restore of those tables, as
 * pg_restore --filter reads the line as -t (restore --tables).
 */
export function filterTables(options: Pick<PostgresRestoreOptions, 'filter'>): string[] {
  if (!options.filter) return [];
  return parseFilterFile(options.filter.text, options.filter.name)
    .filter((r) => r.object === 'table' && r.action === 'include')
    .map((r) => r.pattern);
}

/** Whether any choice leaves something out of a full restore (`dataOnly` is a mode of its own). */
export const anyChoice = (c: RestoreChoices) =>
  c.schemaOnly ||
  c.noOwner ||
  c.noPrivileges ||
  c.noPolicies ||
  c.noComments ||
  c.noPublications ||
  c.noSubscriptions ||
  c.schemas.length > 0 ||
  c.excludeSchemas.length > 0 ||
  c.excludeTableData.length > 0;

const filtersSchemas = (c: RestoreChoices) => c.schemas.length > 0 || c.excludeSchemas.length > 0;

/** Whether objects of this schema (null: outside any schema) are restored. */
function schemaKept(c: RestoreChoices, schema: string | null): boolean {
  // pg_restore --schema restores only what lies in the schemas named.
  if (c.schemas.length > 0 && (schema === null || !schemaMatches(schema, c.schemas))) return false;
  return schema === null || !schemaMatches(schema, c.excludeSchemas);
}

function kept(
  c: RestoreChoices,
  place: StatementPlace,
  statement: string,
  what: string,
  skipped: Set<string>,
): boolean {
  if (place.replication === 'publication' && c.noPublications) return false;
  if (place.replication === 'subscription' && c.noSubscriptions) return false;
  switch (place.kind) {
    case 'setting':
      return true;
    case 'owner':
      if (c.noOwner) return false;
      break;
    case 'privilege':
      if (c.noPrivileges) return false;
      break;
    case 'policy':
    case 'row-security':
      if (c.noPolicies) return false;
      break;
    case 'comment':
      if (c.noComments || (place.onPolicy && c.noPolicies)) return false;
      break;
    case 'sequence-value':
      // pg_restore --schema-only leaves sequence values out (SEQUENCE SET is data to it).
      if (c.schemaOnly) return false;
      // pg_dump leaves out the value of a sequence owned by a table whose rows it leaves out.
      if (skipped.has(`${place.schema}.${place.relation}`)) return false;
      break;
    case 'publication':
      if (c.noPublications) return false;
      break;
    case 'subscription':
      if (c.noSubscriptions) return false;
      break;
    default:
      break;
  }
  if (!filtersSchemas(c) || place.schema === 'pg_temp') return true;
  if (place.schema === undefined) {
    throw new LifeboatError(
      'RESTORE_UNSUPPORTED',
      `--schema/--exclude-schema cannot tell which schema this statement of ${what} belongs to: ${statement.slice(0, 120).replace(/\s+/g, ' ')}`,
      { hint: 'restore without a schema filter, then drop what you do not need' },
    );
  }
  return schemaKept(c, place.schema);
}

/** An archived script (pre-data, post-data, large objects) read whole, with the choices applied. */
export async function chosenScript(
  entry: ArchiveEntry,
  c: RestoreChoices | undefined,
  summary: PostgresSummary,
): Promise<string> {
  return applyChoices((await buffer(entry.stream)).toString(), c, entry.relativePath, summary);
}

/** The script without the statements the choices leave out (comments and markers stay). */
export function applyChoices(
  sql: string,
  c: RestoreChoices | undefined,
  what: string,
  summary: PostgresSummary,
): string {
  const tablespaces = sql.includes(`${TABLESPACE_CALL}(`);
  if (!tablespaces && (!c || !anyChoice(c))) return sql;
  const { statements, tail } = splitStatements(sql);
  const skipped = c ? sequencesWithoutValue(c, summary) : new Set<string>();
  const out: string[] = [];
  for (const s of statements) {
    out.push(s.lead);
    const setting = tablespaces ? tablespaceCall(s.body) : undefined;
    if (setting !== undefined) {
      const resolved = tablespaceSetting(targetTablespace(c, setting));
      if (resolved !== null) out.push(resolved);
    } else if (!c || !anyChoice(c) || kept(c, placeStatement(s.body), s.body, what, skipped))
      out.push(s.body);
  }
  out.push(tail);
  return out.join('');
}

/** The tablespace a `SELECT pg_temp.lifeboat_tablespace('…');` statement names, if it is one. */
function tablespaceCall(body: string): string | undefined {
  if (!body.startsWith(`SELECT ${TABLESPACE_CALL}(`)) return undefined;
  const tokens = tokenize(body, 8);
  const literal = tokens[5];
  return literal?.type === 'string' ? literal.text : undefined;
}

/** Where objects of the archive's tablespace `name` go; null: nowhere said (--no-tablespaces). */
function targetTablespace(c: RestoreChoices | undefined, name: string): string | null {
  if (c?.noTablespaces) return null;
  if (name === '') return '';
  return c?.tablespaceTargets?.get(name) ?? c?.tablespaceMap.get(name) ?? name;
}

/** Whether a table's rows are loaded. */
export const dataWanted = (
  c: RestoreChoices,
  t: Pick<TableSummary, 'schema' | 'table' | 'rowsLeftOut'>,
) =>
  // A table whose rows the backup left out has none to load (nor its sequences a value).
  !t.rowsLeftOut &&
  !c.schemaOnly &&
  schemaKept(c, t.schema) &&
  !tableMatches(t, c.excludeTableData);

/**
 * The sequence values (`setval`) of a script that the choices keep: what a data-only restore
 * runs of post-data, as pg_restore --data-only runs the SEQUENCE SET entries only.
 */
export function sequenceValues(sql: string, c: RestoreChoices, summary: PostgresSummary): string {
  const { statements } = splitStatements(sql);
  const skipped = sequencesWithoutValue(c, summary);
  return statements
    .filter((s) => {
      const place = placeStatement(s.body);
      return place.kind === 'sequence-value' && kept(c, place, s.body, POST_DATA, skipped);
    })
    .map((s) => `${s.body}\n`)
    .join('');
}

/** `schema.sequence` of the sequences owned by tables whose rows are left out. */
function sequencesWithoutValue(c: RestoreChoices, summary: PostgresSummary): Set<string> {
  const out = new Set<string>();
  for (const s of summary.sequences) {
    if (s.ownedBy && !dataWanted(c, s.ownedBy)) out.add(`${s.schema}.${s.sequence}`);
  }
  return out;
}
