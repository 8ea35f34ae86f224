import type { Socket } from 'node:net';
import { LifeboatError } from '@lifeboat/core';
import pg, { type ClientConfig } from 'pg';
import { isTooManyConnections, pgCode, toPgLifeboatError } from './errors.js';
import { isSslRefused, isTlsFailure, resolveSsl, type SslPolicy, tlsError } from './libpq-ssl.js';
import type { ConnectionTarget, ResolvedPostgresOptions } from './options.js';
import { probeSsl } from './ssl-probe.js';

export type PgClient = pg.Client;

export interface ConnectSettings {
  applicationName: string;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  connectTimeoutMs: number;
}

export const settingsFrom = (o: ResolvedPostgresOptions): ConnectSettings => ({
  applicationName: o.applicationName,
  statementTimeoutMs: o.statementTimeoutMs,
  lockTimeoutMs: o.lockTimeoutMs,
  connectTimeoutMs: o.connectTimeoutMs,
});

/**
 * Session settings every Lifeboat connection uses, so that COPY output and catalog SQL do not
 * depend on the server's or role's defaults: ISO dates, hex bytea, UTC, and an empty
 * search_path so that every name the server prints (pg_get_expr, pg_get_viewdef…) is qualified.
 * Row-level security off, as pg_dump and pg_restore set it: a query that policies would filter
 * (a COPY of some of a table's rows, a count, a DELETE of the visible rows only) fails instead.
 */
export const SESSION_SETUP = [
  "SET client_encoding = 'UTF8'",
  'SET datestyle = ISO',
  'SET intervalstyle = postgres',
  "SET bytea_output = 'hex'",
  'SET standard_conforming_strings = on',
  "SET timezone = 'UTC'",
  'SET extra_float_digits = 3',
  'SET idle_in_transaction_session_timeout = 0',
  'SET row_security = off',
  "SELECT pg_catalog.set_config('search_path', '', false)",
];

/** libpq's SSL policy of a target, resolved once per parameter set (files read once). */
const policies = new WeakMap<object, SslPolicy>();
function policyOf(target: ConnectionTarget): SslPolicy | undefined {
  if (!target.sslParams) return undefined;
  let policy = policies.get(target.sslParams);
  if (!policy) {
    policy = resolveSsl(target.sslParams);
    policies.set(target.sslParams, policy);
  }
  return policy;
}

/** Servers that refused SSL under sslmode=prefer: the next connections go without at once. */
const refusedSsl = new Set<string>();

/** One connection attempt with the given `ssl`; throws what `pg` throws (ABORTED on abort). */
async function attempt(
  target: ConnectionTarget,
  ssl: ClientConfig['ssl'] | undefined,
  settings: ConnectSettings,
  signal?: AbortSignal,
  /** A socket already connected to the server, SSL already asked for (ssl-probe.ts). */
  socket?: Socket,
): Promise<PgClient> {
  const client = new pg.Client({
    ...(socket ? { stream: () => socket } : {}),
    ...target.extra,
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(ssl !== undefined ? { ssl } : {}),
    application_name: settings.applicationName,
    connectionTimeoutMillis: settings.connectTimeoutMs,
  });
  // A connection can fail while idle (terminated backend): keep the process alive; the next
  // query on it rejects with the reason.
  client.on('error', () => {});
  const stop = () => void client.end().catch(() => {});
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw new LifeboatError('ABORTED', undefined, { cause: signal.reason });
    await client.connect();
    await client.query(
      [
        ...SESSION_SETUP,
        `SET statement_timeout = ${settings.statementTimeoutMs}`,
        `SET lock_timeout = ${settings.lockTimeoutMs}`,
      ].join(';\n'),
    );
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    if (signal?.aborted) throw new LifeboatError('ABORTED', undefined, { cause: signal.reason });
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * Opens one connection; the caller ends it. Honours the abort signal while connecting. Without
 * an explicit `ssl`, SSL is used as libpq's sslmode says: disable and allow try without first
 * (allow then with, if the server refused), prefer (the default) with first and falls back
 * without; require, verify-ca and verify-full never connect without, and fail with
 * DATABASE_TLS_FAILED.
 */
export async function openClient(
  target: ConnectionTarget,
  settings: ConnectSettings,
  signal?: AbortSignal,
): Promise<PgClient> {
  const where = `${target.host}:${target.port}/${target.database}`;
  const policy = policyOf(target);
  const server = `${target.host}:${target.port}`;
  const failed = (error: unknown) =>
    toPgLifeboatError(error, 'connecting', 'DATABASE_UNREACHABLE', where);
  const fallback = (error: unknown) =>
    !(error instanceof LifeboatError) &&
    (isSslRefused(error) || isTlsFailure(error) || pgCode(error) === '28000');
  try {
    if (!policy) return await attempt(target, target.ssl, settings, signal);
    const ssl = policy.options ?? true;
    switch (policy.mode) {
      case 'disable':
        return await attempt(target, false, settings, signal);
      case 'allow':
        try {
          return await attempt(target, false, settings, signal);
        } catch (error) {
          // pg_hba.conf may take only SSL connections (hostssl): then try with.
          if (pgCode(error) !== '28000') throw error;
          return await attempt(target, ssl, settings, signal);
        }
      case 'prefer':
        if (refusedSsl.has(server)) return await attempt(target, false, settings, signal);
        try {
          // Over TCP, as libpq: a refusal goes on without SSL on the same connection.
          if (target.host.startsWith('/')) return await attempt(target, ssl, settings, signal);
          const probe = await probeSsl(target.host, target.port, settings.connectTimeoutMs, signal);
          if (probe.accepted) return await attempt(target, ssl, settings, signal, probe.socket);
          refusedSsl.add(server);
          return await attempt(target, false, settings, signal, probe.socket);
        } catch (error) {
          if (!fallback(error)) throw error;
          if (isSslRefused(error)) refusedSsl.add(server);
          return await attempt(target, false, settings, signal);
        }
      default:
        try {
          return await attempt(target, ssl, settings, signal);
        } catch (error) {
          if (isSslRefused(error) || isTlsFailure(error)) throw tlsError(error, policy, where);
          throw error;
        }
    }
  } catch (error) {
    throw failed(error);
  }
}

/** Ends a connection at once on abort; returns the function that stops listening. */
export function endOnAbort(client: PgClient, signal: AbortSignal): () => void {
  const stop = () => void closeQuietly(client);
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

/**
 * Ends a connection, and never waits long for it: a socket cut while a COPY held it paused may
 * never report its end, so after a grace period the socket is destroyed.
 */
export async function closeQuietly(client: PgClient | undefined): Promise<void> {
  if (!client) return;
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (
        client as unknown as { connection?: { stream?: { destroy(): void } } }
      ).connection?.stream?.destroy();
      resolve();
    }, 2000);
    timer.unref();
  });
  await Promise.race([client.end().catch(() => {}), forced]);
  clearTimeout(timer);
}

/**
 * The connections of one parallel job: each ends as soon as `signal` aborts, and `closeAll`
 * closes every one, whatever happened.
 */
export function connectionGroup(
  target: ConnectionTarget,
  settings: ConnectSettings,
  signal: AbortSignal,
  setup?: (client: PgClient) => Promise<unknown>,
) {
  const clients: PgClient[] = [];
  return {
    clients,
    async open(): Promise<PgClient> {
      const client = await openClient(target, settings, signal);
      clients.push(client);
      endOnAbort(client, signal);
      await setup?.(client);
      return client;
    },
    /** Takes an open connection into the group (ended on abort, closed by closeAll). */
    async adopt(client: PgClient): Promise<PgClient> {
      clients.push(client);
      endOnAbort(client, signal);
      await setup?.(client);
      return client;
    },
    closeAll: () => Promise.all(clients.map(closeQuietly)),
  };
}

/**
 * Opens `count` connections at once (over a network each costs several round trips) and returns
 * those the server gave. A refusal for want of a free slot only lowers the count; any other
 * failure is thrown once every attempt has settled, so none is left opening behind the caller.
 */
export async function openAtOnce(
  count: number,
  open: () => Promise<PgClient>,
): Promise<{ opened: PgClient[]; refused: number }> {
  const outcomes = await Promise.allSettled(Array.from({ length: count }, open));
  const opened: PgClient[] = [];
  let refused = 0;
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') opened.push(outcome.value);
    else if (isTooManyConnections(outcome.reason)) refused++;
    else throw outcome.reason;
  }
  // A backend counts against a role's or database's CONNECTION LIMIT before it checks the
  // limit, so connections starting together can refuse each other: one more try each, in turn.
  while (refused > 0) {
    try {
      opened.push(await open());
      refused--;
    } catch (error) {
      if (!isTooManyConnections(error)) throw error;
      break;
    }
  }
  return { opened, refused };
}

/** Runs `fn` with a fresh connection that is always closed afterwards. */
export async function withClient<T>(
  target: ConnectionTarget,
  settings: ConnectSettings,
  fn: (client: PgClient) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const client = await openClient(target, settings, signal);
  const stop = signal ? endOnAbort(client, signal) : () => {};
  try {
    return await fn(client);
  } finally {
    stop();
    await closeQuietly(client);
  }
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;
export const qualified = (schema: string, name: string): string =>
  `${quoteIdent(schema)}.${quoteIdent(name)}`;
