import { quoteLiteral } from '../connection.js';
import { NO_OWNER, NO_PRIVILEGES, SCRIPT_WARNING } from './access.js';

/** The error code of a restore stopped because code it ran changed the restoring session. */
export const RESTORE_REFUSED = 'RESTORE_REFUSED';

/** Variables `asOwnerRun` uses: the DECLARE section of its block lists them. */
export const AS_OWNER_VARS =
  'temps text[]; sets text[]; changed_temps text; changed_sets text; refused text;';

/**
 * Everything in this session's temporary schema, with the row's place (a CREATE OR REPLACE or
 * an ALTER moves it): what later statements could call in place of what they mean.
 */
const TEMP_OBJECTS = `ARRAY(
  SELECT c.ctid::text || ' relation ' || c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT p.ctid::text || ' function ' || p.oid::pg_catalog.regprocedure FROM pg_catalog.pg_proc p WHERE p.pronamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT t.ctid::text || ' type ' || t.oid::pg_catalog.regtype FROM pg_catalog.pg_type t WHERE t.typnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' operator ' || o.oid::pg_catalog.regoperator FROM pg_catalog.pg_operator o WHERE o.oprnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' collation ' || o.collname FROM pg_catalog.pg_collation o WHERE o.collnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' conversion ' || o.conname FROM pg_catalog.pg_conversion o WHERE o.connamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' constraint ' || o.conname FROM pg_catalog.pg_constraint o WHERE o.connamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' operator class ' || o.opcname FROM pg_catalog.pg_opclass o WHERE o.opcnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' operator family ' || o.opfname FROM pg_catalog.pg_opfamily o WHERE o.opfnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' text search configuration ' || o.cfgname FROM pg_catalog.pg_ts_config o WHERE o.cfgnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' text search dictionary ' || o.dictname FROM pg_catalog.pg_ts_dict o WHERE o.dictnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' text search parser ' || o.prsname FROM pg_catalog.pg_ts_parser o WHERE o.prsnamespace = pg_catalog.pg_my_temp_schema()
  UNION ALL SELECT o.ctid::text || ' text search template ' || o.tmplname FROM pg_catalog.pg_ts_template o WHERE o.tmplnamespace = pg_catalog.pg_my_temp_schema())`;

/**
 * Every setting of the session (standard_conforming_strings, search_path, check_function_bodies,
 * client_encoding, row_security, session_replication_role…) and Lifeboat's own, which the
 * script relies on: a custom one set only now is not listed by pg_settings.
 */
const SETTINGS = `ARRAY(
  SELECT s.name || '=' || COALESCE(s.setting, '') FROM pg_catalog.pg_settings s
  UNION ALL SELECT n || '=' || COALESCE(pg_catalog.current_setting(n, true), '')
    FROM pg_catalog.unnest(ARRAY['${NO_OWNER}', '${NO_PRIVILEGES}', 'lifeboat.owners_skipped']) AS n)`;

/** SQL: what differs between two snapshots (`a`, `b`: text[]), each item cut by `name`. */
const differs = (a: string, b: string, name: string) =>
  `SELECT pg_catalog.string_agg(DISTINCT ${name}, ', ') FROM (
    (SELECT pg_catalog.unnest(${a}) EXCEPT SELECT pg_catalog.unnest(${b}))
    UNION (SELECT pg_catalog.unnest(${b}) EXCEPT SELECT pg_catalog.unnest(${a}))) AS d(x)`;

/**
 * PL/pgSQL that runs `statement` (a CHECK or foreign key added to a table, a check added to a
 * domain) as `runner` (a variable: the owner of the table or domain, not the current user).
 * PostgreSQL validates such a constraint as the current user, not in the owner's
 * security-restricted mode, so a restoring superuser would run the source roles' code with its
 * rights. The statement runs in a temporary SECURITY DEFINER function owned by the owner: there
 * PostgreSQL refuses SET ROLE and SET SESSION AUTHORIZATION, so that code cannot climb back to
 * the restoring user. Two ways are left to it, both checked after the call: a temporary object
 * (a pg_temp function a later statement could call in place of what it means) and a session
 * setting (standard_conforming_strings off would make a later string literal SQL). If either
 * changed, the restore stops with RESTORE_REFUSED (the error rolls the change back) rather than
 * go on in that session. `denied` runs instead when the owner may not add the constraint (it
 * lacks a privilege the restoring user has).
 */
export function asOwnerRun(statement: string, what: string, denied: string): string {
  const wrapper = 'pg_temp.lifeboat_as_owner()';
  const head = `${SCRIPT_WARNING}${RESTORE_REFUSED}: ${what}: `;
  return `EXECUTE 'CREATE FUNCTION ${wrapper} RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS '
    || pg_catalog.quote_literal('BEGIN EXECUTE ' || pg_catalog.quote_literal(${quoteLiteral(statement)}) || '; END');
  EXECUTE 'ALTER FUNCTION ${wrapper} OWNER TO ' || pg_catalog.quote_ident(runner);
  temps := ${TEMP_OBJECTS};
  sets := ${SETTINGS};
  BEGIN
    PERFORM ${wrapper};
  EXCEPTION WHEN insufficient_privilege THEN
    ${denied}
  END;
  ${differs('temps', TEMP_OBJECTS, "pg_catalog.substr(x, pg_catalog.strpos(x, ' ') + 1)")} INTO changed_temps;
  ${differs('sets', SETTINGS, "pg_catalog.split_part(x, '=', 1)")} INTO changed_sets;
  IF changed_temps IS NOT NULL OR changed_sets IS NOT NULL THEN
    refused := ${quoteLiteral(head)} || 'its code (functions of ' || untrusted || '), run as ' || runner
      || ', changed the restoring session: ' || pg_catalog.concat_ws('; ', 'settings ' || changed_sets,
        'temporary objects ' || changed_temps)
      || '; the restore stops rather than go on in a changed session (the change is rolled back)';
    RAISE EXCEPTION '%', refused;
  END IF;
  EXECUTE 'DROP FUNCTION ${wrapper}';
  RETURN;`;
}
