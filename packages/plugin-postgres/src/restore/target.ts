import { LifeboatError, type Warn } from '@lifeboat/core';
import { NOT_EXTENSION_MEMBER, USER_NAMESPACE } from '../catalog/queries.js';
import { type ConnectSettings, type PgClient, quoteIdent, withClient } from '../connection.js';
import { createDatabase } from '../database-locale.js';
import { pgCode, toPgLifeboatError } from '../errors.js';
import { type ConnectionTarget, describeTarget, targetFromUrl } from '../options.js';
import type { DatabaseLocale } from '../summary.js';
import { dropGlobalObjects } from './clean-globals.js';
import type { PostgresRestoreOptions } from './options.js';

/**
 * `--target-url` wins, then `--target-database` on the configured server; the configured database
 * itself only when asked for (`inPlace`): a restore never writes where nobody named.
 */
export function resolveRestoreTarget(
  options: PostgresRestoreOptions,
  source: ConnectionTarget,
): ConnectionTarget {
  if (typeof options.targetUrl === 'string' && options.targetUrl !== '')
    return targetFromUrl(options.targetUrl);
  if (typeof options.targetDatabase === 'string' && options.targetDatabase !== '') {
    return { ...source, database: options.targetDatabase };
  }
  if (options.inPlace === true) return source;
  throw new LifeboatError(
    'TARGET_REQUIRED',
    `No restore target was named; the configured database is ${describeTarget(source)}, which is not written unless asked for by name`,
    {
      hint: `Restore into a new database: --target-database NAME (or --target-url). To restore into ${source.database} itself (it was lost, or you mean to replace it): --in-place, or --target-database ${source.database}.`,
    },
  );
}

/** The same server and database as the configured one. */
export const isSameDatabase = (a: ConnectionTarget, b: ConnectionTarget): boolean =>
  a.database === b.database && a.port === b.port && a.host === b.host;

/** The same server, another database: for CREATE and DROP DATABASE. */
const maintenance = (target: ConnectionTarget, database: string): ConnectionTarget => ({
  ...target,
  database,
});

async function withMaintenance<T>(
  target: ConnectionTarget,
  settings: ConnectSettings,
  fn: (c: PgClient) => Promise<T>,
): Promise<T> {
  try {
    return await withClient(maintenance(target, 'postgres'), settings, fn);
  } catch (error) {
    if (!(error instanceof LifeboatError) || !/does not exist/.test(error.message)) throw error;
    return withClient(maintenance(target, 'template1'), settings, fn);
  }
}

/** The target server's version (asked on its maintenance database: the target may not exist). */
export async function targetServerVersion(
  target: ConnectionTarget,
  settings: ConnectSettings,
): Promise<{ num: number; text: string }> {
  return withMaintenance(target, settings, async (c) => {
    const { rows } = await c.query(
      "SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS text",
    );
    return { num: Number(rows[0].num), text: String(rows[0].text) };
  });
}

/** The target server's version and whether the target database exists, on one connection. */
export async function targetServer(
  target: ConnectionTarget,
  settings: ConnectSettings,
): Promise<{ version: { num: number; text: string }; exists: boolean }> {
  return withMaintenance(target, settings, async (c) => {
    const { rows } = await c.query(
      `SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS text,
        EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = $1) AS exists`,
      [target.database],
    );
    const row = rows[0];
    return {
      version: { num: Number(row.num), text: String(row.text) },
      exists: row.exists === true,
    };
  });
}

/** Creates the target database when it does not exist; returns whether it did. */
export async function ensureDatabase(
  target: ConnectionTarget,
  settings: ConnectSettings,
  locale?: DatabaseLocale,
  warn?: Warn,
  /** Its default tablespace, as pg_dump --create gives it (checked to exist there). */
  tablespace?: string,
): Promise<boolean> {
  const exists = await withMaintenance(target, settings, async (c) => {
    const { rows } = await c.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [
      target.database,
    ]);
    if (rows.length > 0) return true;
    try {
      // template0: a new database without whatever was added to template1.
      await createDatabase(c, target.database, locale, warn, tablespace);
    } catch (error) {
      if (pgCode(error) === '42P04') return true;
      throw toPgLifeboatError(error, `creating database ${target.database}`, 'RESTORE_FAILED');
    }
    return false;
  });
  return !exists;
}

export async function dropDatabase(
  target: ConnectionTarget,
  settings: ConnectSettings,
): Promise<void> {
  // The server refuses to drop a database that holds subscriptions.
  await withClient(target, settings, dropSubscriptions).catch(() => {});
  await withMaintenance(target, settings, async (c) => {
    const version = Number((await c.query('SHOW server_version_num')).rows[0].server_version_num);
    await c.query(
      `DROP DATABASE IF EXISTS ${quoteIdent(target.database)}${version >= 130000 ? ' WITH (FORCE)' : ''}`,
    );
  });
}

/**
 * What makes a database "not empty": any schema, relation, type, function, publication, event
 * trigger or subscription a user made.
 */
export async function userObjects(client: PgClient): Promise<string[]> {
  const { rows } = await client.query(`SELECT kind || ' ' || name AS what FROM (
    SELECT 'schema' AS kind, n.nspname::text AS name FROM pg_catalog.pg_namespace n
      WHERE ${USER_NAMESPACE('n')} AND n.nspname <> 'public' AND ${NOT_EXTENSION_MEMBER('pg_namespace', 'n.oid')}
    UNION ALL
    SELECT 'relation', n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
    UNION ALL
    SELECT 'function', n.nspname || '.' || p.proname FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}
    UNION ALL
    SELECT 'publication', p.pubname::text FROM pg_catalog.pg_publication p
    UNION ALL
    SELECT 'event trigger', et.evtname::text FROM pg_catalog.pg_event_trigger et
      WHERE ${NOT_EXTENSION_MEMBER('pg_event_trigger', 'et.oid')}
    UNION ALL
    SELECT 'subscription', s.subname::text FROM pg_catalog.pg_subscription s
      WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
    UNION ALL
    SELECT 'type', n.nspname || '.' || t.typname FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typtype IN ('e', 'd', 'r', 'b') AND t.typcategory <> 'A' AND ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}
    UNION ALL
    SELECT 'large object', m.oid::text FROM pg_catalog.pg_largeobject_metadata m
  ) o ORDER BY 1 LIMIT 5`);
  return rows.map((r) => r.what as string);
}

export function notEmptyError(target: ConnectionTarget, objects: string[]): LifeboatError {
  return new LifeboatError(
    'TARGET_NOT_EMPTY',
    `The target database ${describeTarget(target)} is not empty (it holds ${objects.join(', ')}…)`,
    {
      hint: `Restore into a new database instead: --target-database NAME. Only if everything ${target.database} holds now is meant to go: --clean (it asks you to type the database's name).`,
      details: { objects },
    },
  );
}

/**
 * Drops this database's subscriptions. Their replication slots on the publishers are left alone
 * (slot_name = NONE first): a restore must not reach into another server.
 */
async function dropSubscriptions(client: PgClient): Promise<void> {
  const { rows } = await client.query(`SELECT s.subname FROM pg_catalog.pg_subscription s
    WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())`);
  for (const s of rows) {
    const name = quoteIdent(s.subname);
    await client.query(`ALTER SUBSCRIPTION ${name} DISABLE`);
    await client.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
    await client.query(`DROP SUBSCRIPTION ${name}`);
  }
}

/**
 * `--clean`: drops every event trigger, publication and subscription, every user schema (with
 * what is in it), the objects outside schemas pre-data makes (foreign data wrappers, casts,
 * transforms, languages, access methods), extension and large object, then recreates an
 * empty public schema as a new database has it. Runs inside the restore's transaction.
 */
export async function cleanDatabase(client: PgClient): Promise<void> {
  const version = Number(
    (await client.query('SHOW server_version_num')).rows[0].server_version_num,
  );
  // Event triggers first: they would fire on every DROP below.
  const { rows: triggers } =
    await client.query(`SELECT et.evtname FROM pg_catalog.pg_event_trigger et
    WHERE ${NOT_EXTENSION_MEMBER('pg_event_trigger', 'et.oid')}`);
  for (const t of triggers) await client.query(`DROP EVENT TRIGGER ${quoteIdent(t.evtname)}`);
  const { rows: publications } = await client.query(
    'SELECT pubname FROM pg_catalog.pg_publication',
  );
  for (const p of publications) await client.query(`DROP PUBLICATION ${quoteIdent(p.pubname)}`);
  await dropSubscriptions(client);
  const { rows: schemas } = await client.query(`SELECT n.nspname FROM pg_catalog.pg_namespace n
    WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_namespace', 'n.oid')}`);
  for (const s of schemas)
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s.nspname)} CASCADE`);
  await dropGlobalObjects(client);
  const { rows: extensions } = await client.query(
    "SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'",
  );
  for (const e of extensions)
    await client.query(`DROP EXTENSION IF EXISTS ${quoteIdent(e.extname)} CASCADE`);
  await client.query(
    'SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m',
  );
  if (version >= 150000) {
    await client.query('CREATE SCHEMA public AUTHORIZATION pg_database_owner');
    await client.query('GRANT USAGE ON SCHEMA public TO PUBLIC');
  } else {
    await client.query('CREATE SCHEMA public');
    await client.query('GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC');
  }
}

/**
 * Where the archive's tablespaces go on the target server: each named (the objects' ones and
 * the database's default), mapped by `--tablespace-map`; one the server lacks becomes '' (the
 * database's default) with a TABLESPACE_MISSING warning, as pg_restore goes on when it cannot
 * set default_tablespace. Nothing to check with --no-tablespaces.
 */
export async function resolveTablespaces(
  names: readonly string[],
  map: ReadonlyMap<string, string>,
  target: ConnectionTarget,
  settings: ConnectSettings,
  warn: Warn,
): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  if (names.length === 0) return resolved;
  const present = await withMaintenance(target, settings, async (c) => {
    const { rows } = await c.query('SELECT spcname FROM pg_catalog.pg_tablespace');
    return new Set(rows.map((r) => r.spcname as string));
  });
  for (const name of names) {
    const wanted = map.get(name) ?? name;
    if (present.has(wanted)) {
      resolved.set(name, wanted);
      continue;
    }
    resolved.set(name, '');
    const mapped = wanted === name ? '' : ` (--tablespace-map ${name}=${wanted})`;
    warn(
      'TABLESPACE_MISSING',
      `Tablespace ${wanted}${mapped} does not exist on the target server: what the archive kept in ${name} goes to the database's default tablespace. Create it there first, map it with --tablespace-map ${name}=NAME, or leave tablespaces out with --no-tablespaces.`,
    );
  }
  return resolved;
}

/** The target database's default tablespace (what objects with reltablespace 0 lie in). */
export async function databaseDefaultTablespace(
  target: ConnectionTarget,
  settings: ConnectSettings,
): Promise<string | undefined> {
  return withMaintenance(target, settings, async (c) => {
    const { rows } = await c.query(
      `SELECT t.spcname FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
       WHERE d.datname = $1`,
      [target.database],
    );
    return rows[0]?.spcname as string | undefined;
  });
}
