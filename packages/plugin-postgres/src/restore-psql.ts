import { NO_OWNER, NO_PRIVILEGES } from './catalog/access.js';
import { NO_TABLESPACES, TABLESPACE_MAP } from './catalog/tablespaces.js';
import { qualified, quoteIdent } from './connection.js';
import { createDatabaseOptions } from './database-locale.js';
import { largeObjectPsqlLines } from './large-objects.js';
import { STATISTICS_SQL } from './statistics.js';
import {
  GLOBALS,
  POST_DATA,
  type PostgresSummary,
  PRE_DATA,
  RESTORE_PSQL,
  type TableSummary,
} from './summary.js';

const SECTION = 'database';

/** psql's \copy reads the rest of its line: a name with a line break cannot be written there. */
const fitsOnOneLine = (t: TableSummary) =>
  ![t.schema, t.table, ...t.columns.map((c) => c.name)].some((n) => /[\r\n]/.test(n));

function copyLines(t: TableSummary, index: number): string[] {
  const columns = t.columns.map((c) => quoteIdent(c.name)).join(', ');
  const target = qualified(t.schema, t.table);
  const lines: string[] = [];
  if (fitsOnOneLine(t)) {
    for (const part of t.parts) {
      lines.push(
        `\\copy ${target}${columns ? ` (${columns})` : ''} FROM '${SECTION}/${part}' WITH (FORMAT csv, HEADER true)`,
      );
    }
    return lines;
  }
  // Load through a temporary table with a plain name, then move the rows.
  const temp = `pg_temp.lifeboat_load_${index}`;
  lines.push(`CREATE TEMPORARY TABLE ${temp} AS SELECT ${columns} FROM ${target} WITH NO DATA;`);
  for (const part of t.parts)
    lines.push(`\\copy ${temp} FROM '${SECTION}/${part}' WITH (FORMAT csv, HEADER true)`);
  lines.push(`INSERT INTO ${target} (${columns}) SELECT * FROM ${temp};`, `DROP TABLE ${temp};`);
  return lines;
}

/**
 * `database/restore.psql`: restores the whole database with psql alone, in one transaction,
 * from the folder the archive was extracted into (paths are relative to the working directory).
 */
export function renderRestorePsql(summary: PostgresSummary, largeObjects: string[] = []): string {
  const lines = [
    '-- Lifeboat: restore this database with psql alone. From the folder the archive was extracted into:',
    `--   psql -v ON_ERROR_STOP=1 -d TARGET -f ${SECTION}/${RESTORE_PSQL}`,
    '-- Add -v no_owner=1 (objects stay with the restoring user) and/or -v no_privileges=1 (no grants).',
    ...(summary.globals
      ? [
          `-- Add -v globals=1 to create the roles this server lacks first (${GLOBALS}, as restore --globals).`,
        ]
      : []),
    '-- Planner statistics: imported on PostgreSQL 18+, ANALYZE before; -v no_analyze=1 skips them.',
    ...(summary.tablespaces
      ? [
          `-- Tablespaces (${summary.tablespaces.join(', ').replace(/[\r\n]/g, ' ')}): -v no_tablespaces=1 puts everything in the default one (pg_restore --no-tablespaces);`,
          "-- -v tablespace_map=OLD=NEW,OLD2=NEW2 moves them (names with ',' or '=' cannot be mapped here: lifeboat restore --tablespace-map can).",
          '-- A tablespace this server lacks: TABLESPACE_MISSING warning, its objects go to the default one.',
        ]
      : []),
    `-- Source: PostgreSQL ${summary.serverVersion}, ${summary.tables.length} tables. TARGET should be an empty database.`,
    ...createLine(summary),
    '\\set ON_ERROR_STOP on',
    '\\encoding UTF8',
    'BEGIN;',
    // As pg_restore's --no-owner / --no-privileges: psql -v no_owner=1 -v no_privileges=1.
    '\\if :{?no_owner}',
    `SET ${NO_OWNER} = on;`,
    '\\endif',
    '\\if :{?no_privileges}',
    `SET ${NO_PRIVILEGES} = on;`,
    '\\endif',
    ...(summary.tablespaces
      ? [
          '\\if :{?no_tablespaces}',
          `SET ${NO_TABLESPACES} = on;`,
          '\\endif',
          '\\if :{?tablespace_map}',
          `SELECT pg_catalog.set_config('${TABLESPACE_MAP}', :'tablespace_map', false);`,
          '\\endif',
        ]
      : []),
    // Roles first (restore --globals): in the same transaction, so a failure takes them back too.
    ...(summary.globals ? ['\\if :{?globals}', `\\i ${SECTION}/${GLOBALS}`, '\\endif'] : []),
    `\\i ${SECTION}/${PRE_DATA}`,
  ];
  summary.tables.forEach((t, i) => {
    const rows = t.rowsLeftOut ? 'rows left out at backup (exclude table_data)' : `${t.rows} rows`;
    lines.push(`-- ${t.name.replace(/[\r\n]/g, ' ')}: ${rows}`);
    lines.push(...copyLines(t, i + 1));
  });
  lines.push(...largeObjectPsqlLines(largeObjects, SECTION));
  lines.push(`\\i ${SECTION}/${POST_DATA}`);
  if (summary.statistics) {
    // Once indexes are built (CREATE INDEX sets the table's pg_class numbers too).
    lines.push('\\if :{?no_analyze}', '\\else', `\\i ${SECTION}/${STATISTICS_SQL}`, '\\endif');
  }
  lines.push('COMMIT;', '');
  return lines.join('\n');
}

/** How to create TARGET with the source's encoding and locale (what a Lifeboat restore does). */
function createLine(summary: PostgresSummary): string[] {
  const options = summary.locale && createDatabaseOptions(summary.locale, summary.serverVersionNum);
  const tablespace = summary.databaseTablespace
    ? ` TABLESPACE = ${quoteIdent(summary.databaseTablespace)}`
    : '';
  return options
    ? [
        `-- Create TARGET as the source was: CREATE DATABASE TARGET TEMPLATE template0 ${`${options}${tablespace}`.replace(/[\r\n]/g, ' ')};`,
      ]
    : [];
}

/** The lines BACKUP_INFO.txt shows under `database/`. */
export function manualRestoreSteps(summary: PostgresSummary): string[] {
  const steps = [
    `PostgreSQL ${summary.serverVersion}, ${summary.tables.length} tables; schema in ${PRE_DATA} and ${POST_DATA},`,
    'one CSV (with header) per table under data/ (big tables in several numbered parts).',
    'Into an empty database, from the folder you extracted the archive into:',
    `    createdb TARGET && psql -v ON_ERROR_STOP=1 -d TARGET -f ${SECTION}/${RESTORE_PSQL}`,
    `The script runs ${PRE_DATA}, loads every CSV with \\copy, then runs ${POST_DATA} (keys, indexes,`,
    'constraints, triggers, sequence values), all in one transaction.',
    'psql -v no_owner=1 leaves owners out, -v no_privileges=1 grants (as pg_restore --no-owner, -x).',
  ];
  steps.push(
    "database.json: the database's own owner, comment, settings and grants (what pg_dump --create keeps);",
    'lifeboat restore gives them to a database it creates; restore.psql leaves them out (as pg_restore without --create).',
  );
  if (summary.globals) {
    steps.push(
      `${GLOBALS}: ${summary.globals.roles} role(s) and their memberships${summary.globals.passwords ? ' (with password hashes)' : ' (without passwords)'}; psql -v globals=1`,
      'creates the missing ones first (lifeboat restore --globals); existing roles are never altered.',
    );
  }
  if (summary.statistics) {
    steps.push(
      `${STATISTICS_SQL}: planner statistics; the script imports them on PostgreSQL 18+ (pg_restore_*_stats),`,
      'runs ANALYZE on older servers; psql -v no_analyze=1 skips them.',
    );
  }
  if (summary.largeObjects) {
    steps.push(
      `${summary.largeObjects.count} large object(s) in large-objects/<oid>.bin, loaded by the script with \\lo_import;`,
      'their owners, comments and grants are in large-objects.sql.',
    );
  }
  if (summary.unsupported.length > 0) {
    steps.push(
      `Not in this backup (recreate by hand): ${summary.unsupported.map((u) => `${u.kind} ${u.name}`).join('; ')}`,
    );
  }
  return steps;
}
