import { connect, createServer, type Server, type Socket } from 'node:net';
import { createEngine, memoryStorage } from '@lifeboat/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  embeddedServer,
  sourceFor,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * Over a network every connection costs round trips (TCP, TLS, SCRAM): workers connect at once,
 * not one after another. A proxy in front of the server holds each new connection for a while
 * before passing it on and counts how many it holds at the same time.
 */
const server = embeddedServer;
const HOLD_MS = 300;
let db: string;
let proxy: Server;
let proxyPort: number;
let held = 0;
let mostHeld = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'atonce');
  await sql(
    server,
    db,
    `CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a SELECT generate_series(1, 1000);
     CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b SELECT generate_series(1, 1000);
     CREATE TABLE c (id int PRIMARY KEY); INSERT INTO c SELECT generate_series(1, 1000);`,
  );
  proxy = createServer((client) => {
    sockets.add(client);
    held++;
    mostHeld = Math.max(mostHeld, held);
    client.pause();
    setTimeout(() => {
      held--;
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
    }, HOLD_MS);
  });
  proxyPort = await new Promise<number>((resolve) => {
    proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port));
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
});

const throughProxy = (database: string) =>
  sourceFor(server, database, { host: '127.0.0.1', port: proxyPort, jobs: 4 });

describe('connections open at once', () => {
  it('a backup with four connections opens its three workers together', async () => {
    mostHeld = 0;
    const storage = memoryStorage();
    const result = await createEngine({ sources: [throughProxy(db)], storage }).backup();
    expect(result.tables).toHaveLength(3);
    expect(mostHeld).toBe(3);
  });

  it('a restore with four connections opens its three extra ones together', async () => {
    const storage = memoryStorage();
    await createEngine({ sources: [sourceFor(server, db)], storage }).backup();
    const target = uniqueName('atonce_r');
    trackDatabase(server, target);
    mostHeld = 0;
    await createEngine({ sources: [throughProxy(db)], storage }).restore('latest', {
      postgres: { targetDatabase: target },
    });
    expect(mostHeld).toBe(3);
    const rows = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM c');
    expect(Number(rows[0]!.n)).toBe(1000);
  });
});
