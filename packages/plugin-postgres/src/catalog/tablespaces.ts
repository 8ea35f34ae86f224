import { quoteIdent, quoteLiteral } from '../connection.js';
import { SCRIPT_WARNING } from './access.js';
import type { Catalog } from './model.js';

/**
 * Tablespaces, as pg_dump and pg_restore keep them: each table, index, materialized view and
 * constraint's index is created with `default_tablespace` set to the tablespace it lay in
 * (pg_backup_archiver.c's _selectTablespace), never with a TABLESPACE clause, so a restore can
 * move or drop them without rewriting DDL. The scripts say it through a guarded call,
 * `SELECT pg_temp.lifeboat_tablespace('name')` ('' for the database's default): a Lifeboat
 * restore replaces each by the plain `SET default_tablespace` it resolved (mapped with
 * --tablespace-map, the database's default for a tablespace the target lacks, nothing with
 * --no-tablespaces); psql alone runs the helper below, which does the same from
 * `psql -v tablespace_map=old=new,… -v no_tablespaces=1`.
 */
export const NO_TABLESPACES = 'lifeboat.no_tablespaces';
export const TABLESPACE_MAP = 'lifeboat.tablespace_map';
/** Session setting: the tablespaces already reported missing, one per line. */
const MISSING = 'lifeboat.tablespaces_missing';
export const TABLESPACE_CALL = 'pg_temp.lifeboat_tablespace';
/** Moves a partition into the selected tablespace (partitionTablespaceStatement). */
export const PARTITION_TABLESPACE_CALL = 'pg_temp.lifeboat_partition_tablespace';

/** The statement that selects a tablespace ('' the database's default) for what follows. */
export const tablespaceStatement = (name: string) =>
  `SELECT ${TABLESPACE_CALL}(${quoteLiteral(name)});\n`;

/** Defined by pre-data, and again by post-data for a partition's index (another session). */
export const PARTITION_TABLESPACE_HELPER = `CREATE OR REPLACE FUNCTION ${PARTITION_TABLESPACE_CALL}(rel text) RETURNS void
LANGUAGE plpgsql AS $lifeboat$
DECLARE wanted text := pg_catalog.current_setting('default_tablespace');
BEGIN
  IF wanted = '' THEN
    wanted := (SELECT t.spcname FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
               WHERE d.datname = pg_catalog.current_database());
  END IF;
  -- An index a guarded step did not build (step-guard.ts) is not there to move.
  IF pg_catalog.to_regclass(rel) IS NULL THEN RETURN; END IF;
  EXECUTE pg_catalog.format('ALTER TABLE %s SET TABLESPACE %I', rel, wanted);
END
$lifeboat$;
`;

/**
 * The helper psql runs (pre-data defines it first, for the session). The map is
 * `old=new,old2=new2`: a name holding `,` or `=` cannot be mapped this way (a Lifeboat restore
 * maps any name).
 */
export const TABLESPACE_HELPER = `CREATE OR REPLACE FUNCTION ${TABLESPACE_CALL}(name text) RETURNS void
LANGUAGE plpgsql AS $lifeboat$
DECLARE wanted text := name; pair text; seen text;
BEGIN
  IF pg_catalog.current_setting('${NO_TABLESPACES}', true) = 'on' THEN RETURN; END IF;
  IF wanted <> '' THEN
    FOREACH pair IN ARRAY pg_catalog.string_to_array(COALESCE(pg_catalog.current_setting('${TABLESPACE_MAP}', true), ''), ',') LOOP
      IF pg_catalog.split_part(pair, '=', 1) = name THEN
        wanted := pg_catalog.substr(pair, pg_catalog.strpos(pair, '=') + 1);
      END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_tablespace WHERE spcname = wanted) THEN
      seen := COALESCE(pg_catalog.current_setting('${MISSING}', true), '');
      IF pg_catalog.strpos(E'\\n' || seen, E'\\n' || wanted || E'\\n') = 0 THEN
        RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}TABLESPACE_MISSING: tablespace `)} || wanted || ${quoteLiteral(' does not exist on this server; what the archive kept in it goes to the default tablespace (map it: psql -v tablespace_map=OLD=NEW; leave tablespaces out: -v no_tablespaces=1)')};
        PERFORM pg_catalog.set_config('${MISSING}', seen || wanted || E'\\n', false);
      END IF;
      wanted := '';
    END IF;
    -- The database's own default is said as '' (the server refuses to name it for a partitioned table).
    IF wanted = (SELECT t.spcname FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
                 WHERE d.datname = pg_catalog.current_database()) THEN
      wanted := '';
    END IF;
  END IF;
  PERFORM pg_catalog.set_config('default_tablespace', wanted, false);
END
$lifeboat$;
${PARTITION_TABLESPACE_HELPER}`;

/**
 * A partition is created in its parent's tablespace whatever default_tablespace says (the
 * parent's overrides it, CREATE TABLE … PARTITION OF); one that lay elsewhere is moved, right
 * after its CREATE (still empty), to the tablespace the statement before it selected: mapped,
 * the default one for a missing tablespace or with --no-tablespaces, as pg_restore places the
 * partition pg_dump creates on its own and attaches.
 */
export const partitionTablespaceStatement = (relation: string) =>
  `SELECT ${PARTITION_TABLESPACE_CALL}(${quoteLiteral(relation)});\n`;

/** The tablespaces the catalog's objects lie in, sorted (none: the scripts never name one). */
export function usedTablespaces(catalog: Catalog): string[] {
  const names = new Set<string>();
  for (const t of catalog.tables) if (t.tablespace) names.add(t.tablespace);
  for (const v of catalog.views) if (v.tablespace) names.add(v.tablespace);
  for (const i of catalog.indexes) if (i.tablespace) names.add(i.tablespace);
  return [...names].sort();
}

/**
 * Tracks the tablespace a script has selected and writes a statement when the next object
 * wants another (as pg_restore does). `tracked: false` (parallel pieces, each on any connection)
 * always writes it.
 */
export function tablespaceSelector(catalog: Catalog) {
  const used = usedTablespaces(catalog).length > 0;
  let current: string | undefined;
  return {
    used,
    select(name: string | null, tracked = true): string {
      if (!used) return '';
      const want = name ?? '';
      if (tracked && current === want) return '';
      if (tracked) current = want;
      return tablespaceStatement(want);
    },
    /** Forget what was selected (another statement may run in between). */
    reset() {
      current = undefined;
    },
  };
}

/** The SET a Lifeboat restore runs in place of a tablespace call; null: none (--no-tablespaces). */
export function tablespaceSetting(target: string | null): string | null {
  if (target === null) return null;
  return target === ''
    ? "SET default_tablespace = '';"
    : `SET default_tablespace = ${quoteIdent(target)};`;
}
