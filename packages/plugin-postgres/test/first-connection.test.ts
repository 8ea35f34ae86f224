import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createEngine, memoryStorage } from '@lifeboat/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient } from '../src/connection.js';
import { createSpare } from '../src/spare.js';
import { extractArchive } from './support/engine.js';
import { adminClient, createDatabase, embeddedServer, sourceFor, sql } from './support/servers.js';

/**
 * Issue 16: a backup starts on the connection its source's check opened (one connection start-up
 * fewer before the first row). A kept connection that died meanwhile, or waited too long, is
 * never used: the backup opens its own. A proxy in front of the server counts connections.
 */
const server = embeddedServer;
let db: string;
let proxy: Server;
let proxyPort: number;
let accepted = 0;
let holdMs = 0;
let onHeld: (() => void) | undefined;
const sockets = new Set<Socket>();
const APP = 'lifeboat-first-conn';

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'firstconn');
  await sql(
    server,
    db,
    `CREATE TABLE a (id int PRIMARY KEY, v text);
     INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
     CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b SELECT generate_series(1, 1000);`,
  );
  proxy = createServer((client) => {
    accepted++;
    sockets.add(client);
    client.pause();
    // The connections after the first wait `holdMs` (the workers join late).
    const wait = accepted > 1 ? holdMs : 0;
    if (wait > 0) {
      onHeld?.();
      onHeld = undefined;
    }
    setTimeout(() => {
      const upstream = connect(server.port, server.host);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    }, wait);
  });
  proxyPort = await new Promise<number>((resolve) => {
    proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port));
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
});

// No SSL: one TCP connection per PostgreSQL connection (prefer would try SSL first).
const throughProxy = () =>
  sourceFor(server, db, {
    host: '127.0.0.1',
    port: proxyPort,
    jobs: 3,
    ssl: false,
    applicationName: APP,
  });

const backupManifest = async (storage: ReturnType<typeof memoryStorage>) =>
  JSON.parse(await readFile(join(await extractArchive(storage), 'manifest.json'), 'utf8'));

const backends = async () =>
  Number(
    (
      await sql<{ n: string }>(
        server,
        db,
        `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = '${APP}'`,
      )
    )[0]!.n,
  );

describe("a backup's first connection", () => {
  it("is the check's: the check and two workers, no fourth connection", async () => {
    accepted = 0;
    const engine = createEngine({ sources: [throughProxy()], storage: memoryStorage() });
    const result = await engine.backup();
    expect(result.tables.map((t) => t.rows)).toEqual([5000, 1000]);
    expect(accepted).toBe(3);
    await engine.close();
  });

  it('a kept connection the server ended meanwhile is not used: the backup opens its own', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [throughProxy()], storage });
    await engine.context.sourceReady(engine.context.sources[0]!);
    const admin = adminClient(server, db);
    await admin.connect();
    try {
      const ended = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [APP],
      );
      expect(ended.rows).toEqual([{ ok: true }]);
      // Let the client see its socket close.
      await new Promise((r) => setTimeout(r, 100));
      accepted = 0;
      const result = await engine.backup();
      expect(result.tables.map((t) => t.rows)).toEqual([5000, 1000]);
      // The main connection and two workers: the dead one was not taken.
      expect(accepted).toBe(3);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('workers joining while the catalog is read copy as of the snapshot, not as of their joining', async () => {
    await sql(
      server,
      db,
      `CREATE TABLE pair_a (id int PRIMARY KEY, pad text); CREATE TABLE pair_b (id int PRIMARY KEY, pad text);
       INSERT INTO pair_a SELECT g, repeat('a', 100) FROM generate_series(1, 20000) g;
       INSERT INTO pair_b SELECT g, repeat('b', 100) FROM generate_series(1, 20000) g;`,
    );
    const writer = adminClient(server, db);
    await writer.connect();
    try {
      // While the workers wait to join (after the snapshot was exported), a row is committed to
      // each table: a connection copying in the snapshot does not see it.
      let committed: Promise<unknown> | undefined;
      onHeld = () => {
        committed = writer.query(
          `BEGIN; INSERT INTO pair_a VALUES (20001, 'late'); INSERT INTO pair_b VALUES (20001, 'late'); COMMIT`,
        );
      };
      holdMs = 300;
      accepted = 0;
      // Small parts and ranges: every connection copies pages of both tables.
      const source = sourceFor(server, db, {
        host: '127.0.0.1',
        port: proxyPort,
        jobs: 3,
        ssl: false,
        applicationName: APP,
        partBytes: 8 * 1024,
        splitBytes: 1024 * 1024,
      });
      const storage = memoryStorage();
      const engine = createEngine({ sources: [source], storage });
      const result = await engine.backup();
      await engine.close();
      expect(committed).toBeDefined();
      await committed;
      const rows = (name: string) => result.tables.find((t) => t.name === name)!.rows;
      // Both tables were copied in page ranges, by every connection.
      const manifest = await backupManifest(storage);
      const ranges = manifest.sources[0].summary.tables
        .filter((t: { name: string }) => t.name.startsWith('public.pair_'))
        .map((t: { ranges?: number }) => t.ranges);
      expect(ranges).toEqual([3, 3]);
      expect([rows('public.pair_a'), rows('public.pair_b')]).toEqual([20000, 20000]);
      const [now] = await sql<{ n: string }>(server, db, 'SELECT count(*) AS n FROM pair_b');
      expect(Number(now!.n)).toBe(20001);
    } finally {
      holdMs = 0;
      onHeld = undefined;
      await writer.end();
    }
  });

  it('a kept connection nobody takes is closed after its wait, and taking it then gives none', async () => {
    const spare = createSpare(200);
    const client = await openClient(
      {
        host: server.host,
        port: server.port,
        user: server.user,
        database: db,
        ssl: false,
        extra: {},
        ...(server.password ? { password: server.password } : {}),
      },
      { applicationName: APP, statementTimeoutMs: 0, lockTimeoutMs: 0, connectTimeoutMs: 5000 },
    );
    spare.keep(client);
    expect(await backends()).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(spare.take()).toBeUndefined();
    expect(await backends()).toBe(0);
  });
});
