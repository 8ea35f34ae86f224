import { LifeboatError, parseOptions, registerSecret } from '@lifeboat/core';
import type { ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { z } from 'zod';
import { GLOBALS_SCOPES, jobsField, portField } from './fields.js';
import { SSL_URL_PARAMS } from './libpq-ssl.js';

export { MAX_JOBS } from './fields.js';

const MiB = 1024 * 1024;

export const postgresOptionsSchema = z
  .object({
    /** `postgres://user:password@host:port/db?sslmode=…`; wins over the five fields below. */
    connectionString: z.string().min(1).optional(),
    host: z.string().min(1).default('localhost'),
    port: z.coerce.number().pipe(portField).default(5432),
    user: z.string().min(1).default('postgres'),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    /**
     * Passed to `pg` as is (`true`, or `{ rejectUnauthorized, ca, … }`). Absent: libpq's SSL
     * settings (sslmode, sslrootcert… in the URL, else PGSSLMODE, PGSSLROOTCERT…, else prefer).
     */
    ssl: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
    /** Only these tables (`schema.table` or `table`). */
    tables: z.array(z.string().min(1)).optional(),
    excludeTables: z.array(z.string().min(1)).default([]),
    /**
     * pg_dump's selection switches, with its patterns (`app_*`, `"Mixed".t`): only objects in
     * these schemas (-n), none in these (-N), tables without their rows (--exclude-table-data).
     */
    schemas: z.array(z.string().min(1)).optional(),
    excludeSchemas: z.array(z.string().min(1)).optional(),
    excludeTableData: z.array(z.string().min(1)).optional(),
    /**
     * A filter file in pg_dump's --filter syntax (`include|exclude table|schema PATTERN`,
     * `exclude table_data PATTERN`): its text, and its name for errors and the manifest.
     */
    filter: z.object({ text: z.string(), name: z.string().min(1) }).optional(),
    /**
     * Connections copying tables at the same time (backup, restore and verify --deep): the CLI's
     * --jobs / BACKUP_JOBS, one name through every layer.
     */
    jobs: jobsField.default(2),
    /** A table's CSV is cut into archive entries of about this size (rows are never split). */
    partBytes: z
      .number()
      .int()
      .min(1024)
      .default(8 * MiB),
    /**
     * A table whose heap is bigger than this is copied by several workers at once, each a range of
     * its pages (PostgreSQL 14+, with an exported snapshot); smaller tables are one COPY each.
     */
    splitBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * MiB),
    /** statement_timeout for every statement, in ms; 0 = none (a COPY of a big table is long). */
    statementTimeoutMs: z.number().int().min(0).default(0),
    /** How long to wait for a table lock (DDL running elsewhere) before failing, in ms. */
    lockTimeoutMs: z.number().int().min(0).default(60_000),
    connectTimeoutMs: z.number().int().min(0).default(10_000),
    applicationName: z.string().default('lifeboat'),
    /**
     * Back up roles too (`database/globals.sql`): `roles`, those this database needs (owners,
     * grantees, members of those); `all-roles`, every role of the server (pg_dumpall
     * --globals-only). Password hashes only into an encrypted archive. Absent: no roles.
     */
    globals: z.enum(GLOBALS_SCOPES).optional(),
  })
  .strict()
  .refine((o) => o.connectionString !== undefined || o.database !== undefined, {
    message: 'give a connectionString or a database name',
    path: ['database'],
  });

export type PostgresSourceOptions = z.input<typeof postgresOptionsSchema>;
export type ResolvedPostgresOptions = z.output<typeof postgresOptionsSchema>;

/** Connection settings without the plugin's own knobs; `database` is always known. */
export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl?: ClientConfig['ssl'];
  /**
   * When `ssl` was not given: the URL's libpq SSL parameters (sslmode, sslrootcert…), resolved
   * with PGSSLMODE, PGSSLROOTCERT… and ~/.postgresql/ when connecting (see libpq-ssl.ts).
   */
  sslParams?: Record<string, string>;
  /** Any other libpq-style settings from a URL (options, sslmode…), passed through. */
  extra: Record<string, unknown>;
}

export function resolveOptions(input: PostgresSourceOptions): ResolvedPostgresOptions {
  const options = parseOptions(postgresOptionsSchema, input, 'postgres');
  registerSecret(options.password);
  return options;
}

/** Builds the connection target from either a URL or the separate fields. */
export function targetFromOptions(options: ResolvedPostgresOptions): ConnectionTarget {
  if (options.connectionString) return targetFromUrl(options.connectionString, options.ssl);
  return {
    host: options.host,
    port: options.port,
    user: options.user,
    database: options.database!,
    extra: {},
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.ssl !== undefined
      ? { ssl: options.ssl as ClientConfig['ssl'] }
      : { sslParams: {} }),
  };
}

/** Takes libpq's SSL parameters out of a URL: this module reads them, not pg-connection-string. */
function splitSslParams(url: string): { rest: string; params: Record<string, string> } {
  const at = url.indexOf('?');
  if (at < 0) return { rest: url, params: {} };
  const query = new URLSearchParams(url.slice(at + 1));
  const params: Record<string, string> = {};
  for (const name of [...SSL_URL_PARAMS, 'ssl']) {
    const value = query.get(name);
    if (value !== null) params[name] = value;
    query.delete(name);
  }
  const left = query.toString();
  return { rest: `${url.slice(0, at)}${left ? `?${left}` : ''}`, params };
}

export function targetFromUrl(url: string, ssl?: unknown): ConnectionTarget {
  let parsed: ClientConfig;
  let sslParams: Record<string, string>;
  try {
    const split = splitSslParams(url);
    sslParams = split.params;
    parsed = parseIntoClientConfig(split.rest);
  } catch (error) {
    // The URL may hold a password: never echo it.
    throw new LifeboatError(
      'CONFIG_INVALID',
      'Invalid postgres options: the connection string cannot be parsed',
      {
        cause: error instanceof Error ? new Error(error.name) : undefined,
      },
    );
  }
  registerSecret(typeof parsed.password === 'string' ? parsed.password : undefined);
  const { host, port, user, password, database, ssl: _s, connectionString: _c, ...extra } = parsed;
  if (!database) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'Invalid postgres options: the connection string names no database',
    );
  }
  if (sslParams.sslpassword) registerSecret(sslParams.sslpassword);
  return {
    host: host ?? 'localhost',
    port: port ? Number(port) : 5432,
    user: user ?? 'postgres',
    database,
    extra: extra as Record<string, unknown>,
    ...(typeof password === 'string' ? { password } : {}),
    ...(ssl !== undefined ? { ssl: ssl as ClientConfig['ssl'] } : { sslParams }),
  };
}

/** `postgres://user@host:5432/db`: for people and logs, never with the password. */
export function describeTarget(target: ConnectionTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `postgres://${encodeURIComponent(target.user)}@${host}:${target.port}/${encodeURIComponent(target.database)}`;
}
