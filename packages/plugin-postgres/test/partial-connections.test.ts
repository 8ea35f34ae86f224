import { connect, createServer, type Server, type Socket } from 'node:net';
import { createEngine, isLifeboatError, memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, embeddedServer, sourceFor, sql, uniqueName } from './support/servers.js';

/**
 * A partial restore is the guide's quick recovery (issue 16): every connection costs the server
 * a backend and the client round trips, so the check opens one connection to the target and
 * hands it to the load (restore/handover.ts), and none goes to the maintenance database. A proxy in front of the server reads
 * each connection's startup packet and records the database it asks for.
 */
const server = embeddedServer;
let db: string;
let proxy: Server;
let proxyPort: number;
const sockets = new Set<Socket>();

/** The database a startup packet asks for ('' for an SSLRequest, which names none). */
function databaseOf(packet: Buffer): string {
  const fields = packet.subarray(8).toString('utf8').split('\u0000');
  const at = fields.indexOf('database');
  return at >= 0 ? fields[at + 1]! : '';
}

/**
 * A proxy in front of the server: each TCP connection's first packets, as `ssl` for an
 * SSLRequest or the database a startup packet names, go to `seen` (one list per connection).
 */
async function startProxy(seen: string[][]): Promise<{ proxy: Server; port: number }> {
  const proxy = createServer((client) => {
    sockets.add(client);
    const upstream = connect(server.port, server.host);
    sockets.add(upstream);
    const packets: string[] = [];
    seen.push(packets);
    let counting = true;
    client.on('data', (chunk: Buffer) => {
      // Up to the startup packet: an SSLRequest may come first, on the same connection.
      if (counting && chunk.length >= 8) {
        const code = chunk.readUInt32BE(4);
        if (code === 80877103) packets.push('ssl');
        else if (code === 196608) {
          packets.push(databaseOf(chunk));
          counting = false;
        } else counting = false;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await new Promise<number>((resolve) => {
    proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port));
  });
  return { proxy, port };
}

const connections: string[][] = [];

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'partconn');
  await sql(
    server,
    db,
    `CREATE TABLE parent (id int PRIMARY KEY, name text);
     INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) g;
     CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
     INSERT INTO child SELECT g, g FROM generate_series(1, 20) g;
     CREATE TABLE other (id int PRIMARY KEY, body text);
     INSERT INTO other SELECT g, md5(g::text) FROM generate_series(1, 30) g;`,
  );
  ({ proxy, port: proxyPort } = await startProxy(connections));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
});
beforeEach(() => {
  connections.length = 0;
});
/** The databases the connections since the test began asked for. */
const opened = () => connections.flat().filter((p) => p !== 'ssl');

const throughProxy = (database: string) =>
  sourceFor(server, database, { host: '127.0.0.1', port: proxyPort });

describe('a partial restore checks and loads on one connection', () => {
  it('side by side with --clean: two tables, checked and loaded on one connection', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [throughProxy(db)], storage });
    await engine.backup();
    // A side table from an earlier restore: --clean replaces it (the check lists it).
    await sql(server, db, 'CREATE TABLE parent_r (stale int); INSERT INTO parent_r VALUES (1)');
    connections.length = 0;
    const result = await engine.restore('latest', {
      confirm: true,
      postgres: { inPlace: true, tables: ['parent', 'other'], asSuffix: '_r', clean: true },
    });
    expect(result.targets[0]!.replaces).toEqual(['public.parent_r']);
    expect(opened()).toEqual([db]);
    const rows = await sql<{ a: number; b: number }>(
      server,
      db,
      'SELECT (SELECT count(*)::int FROM parent_r) AS a, (SELECT count(*)::int FROM other_r) AS b',
    );
    expect(rows[0]).toEqual({ a: 50, b: 30 });
  });

  it('replacing rows: the orphan check after the load uses the same connection', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [throughProxy(db)], storage });
    await engine.backup();
    // A child row added since the backup whose parent is not in the archive.
    await sql(
      server,
      db,
      "INSERT INTO parent VALUES (51, 'new'); INSERT INTO child VALUES (21, 51)",
    );
    const warnings: string[] = [];
    engine.events.on('warning', (w) => warnings.push(w.code));
    connections.length = 0;
    await engine.restore('latest', { postgres: { inPlace: true, tables: ['parent'] } });
    expect(warnings).toContain('ORPHANED_ROWS');
    expect(opened()).toEqual([db]);
    const rows = await sql<{ n: number }>(server, db, 'SELECT count(*)::int AS n FROM parent');
    expect(rows[0]!.n).toBe(50);
    await sql(server, db, 'DELETE FROM child WHERE id = 21');
  });

  it('a check whose restore never comes closes its connection', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [throughProxy(db)], storage });
    await engine.backup();
    await sql(server, db, 'CREATE TABLE IF NOT EXISTS parent_q (stale int)');
    const refused = await rejectionOf(
      engine.restore('latest', {
        confirm: false,
        postgres: { inPlace: true, tables: ['parent'], asSuffix: '_q', clean: true },
      }),
    );
    expect(isLifeboatError(refused, 'CONFIRMATION_REQUIRED')).toBe(true);
    const lifeboat = async () =>
      (
        await sql<{ n: number }>(
          server,
          db,
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat'",
          [db],
        )
      )[0]!.n;
    // Left for the restore that did not come, then closed (within handover.ts's 5 s).
    for (let i = 0; i < 40 && (await lifeboat()) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await lifeboat()).toBe(0);
    expect(await sql(server, db, "SELECT 1 FROM pg_class WHERE relname = 'parent_q'")).toHaveLength(
      1,
    );
  });

  it('sslmode=prefer against a server without SSL: the refused SSLRequest and the session share one TCP connection, as libpq', async () => {
    // A server address this process has not connected to yet: its first connection asks for SSL.
    const seen: string[][] = [];
    const fresh = await startProxy(seen);
    try {
      const engine = createEngine({
        sources: [sourceFor(server, db, { host: '127.0.0.1', port: fresh.port, jobs: 1 })],
        storage: memoryStorage(),
      });
      const result = await engine.backup();
      expect(result.tables.length).toBeGreaterThan(0);
      expect(seen[0]).toEqual(['ssl', db]);
      // No connection that only asked for SSL; later ones know the answer and do not ask.
      expect(seen.filter((c) => c.length === 1 && c[0] === 'ssl')).toEqual([]);
      expect(seen.slice(1).every((c) => c.length === 1 && c[0] === db)).toBe(true);
    } finally {
      await new Promise((resolve) => fresh.proxy.close(resolve));
    }
  });

  it('still refuses a target database that does not exist, and an existing side table without --clean', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [throughProxy(db)], storage });
    await engine.backup();
    const missing = await rejectionOf(
      engine.restore('latest', {
        postgres: { targetDatabase: uniqueName('partconn_missing'), tables: ['parent'] },
      }),
    );
    expect(isLifeboatError(missing, 'TABLE_NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toMatch(/does not exist, so its tables cannot be restored/);
    await sql(server, db, 'CREATE TABLE IF NOT EXISTS other_x (id int)');
    const taken = await rejectionOf(
      engine.restore('latest', {
        postgres: { inPlace: true, tables: ['other'], asSuffix: '_x' },
      }),
    );
    expect(isLifeboatError(taken, 'TARGET_NOT_EMPTY')).toBe(true);
  });
});
