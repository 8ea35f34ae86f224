import { createServer } from 'node:net';
import { type Readable, Transform } from 'node:stream';
import { createEngine, isLifeboatError, memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { postgresSource } from '../src/index.js';
import { archiveKeys, engineFor } from './support/engine.js';
import { createDatabase, embeddedServer, servers, sourceFor, sql } from './support/servers.js';

function slowStorage() {
  const inner = memoryStorage();
  return {
    ...inner,
    put: (key: string, body: Readable | Uint8Array, options?: Parameters<typeof inner.put>[2]) =>
      inner.put(
        key,
        body instanceof Uint8Array
          ? body
          : body.pipe(
              new Transform({
                transform(chunk, _e, cb) {
                  setTimeout(() => cb(null, chunk), 20);
                },
              }),
            ),
        options,
      ),
  };
}

describe.each(servers)('faults on $name', (server) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'faults');
    await sql(
      server,
      db,
      `CREATE TABLE big (id int PRIMARY KEY, body text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 150000) g;`,
    );
  });

  it('fails with a clear error and stores nothing when the server kills the COPY connection', async () => {
    // A slow storage: the archive drains slowly, so the COPY stays open until the kill lands.
    const storage = slowStorage();
    const engine = createEngine({
      sources: [sourceFor(server, db, { partBytes: 32 * 1024, jobs: 1 })],
      storage,
      pruneAfterBackup: false,
    });
    let killed = 0;
    engine.events.on('source:progress', () => {
      if (killed++ > 0) return;
      // The copy is paused on backpressure inside the COPY: terminate it from another session.
      void sql(
        server,
        'postgres',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'COPY%'",
        [db],
      );
    });
    const error = await rejectionOf(engine.backup());
    expect(isLifeboatError(error)).toBe(true);
    expect(error.code).toBe('DATABASE_FAILED');
    expect(error.message).toMatch(/terminat|connection was lost/i);
    // Killed inside the COPY, the message names the table; killed as the COPY ends, the next
    // statement finds the connection gone. Either way: retryable and nothing stored.
    if (!/connection was lost/i.test(error.message)) expect(error.message).toContain('public.big');
    expect(error.retryable).toBe(true);
    expect(await archiveKeys(storage)).toEqual([]);
    const history = await engine.history();
    expect(history[0]?.ok).toBe(false);
  });

  it('honours the abort signal', async () => {
    const { engine, storage } = engineFor(server, db, { partBytes: 32 * 1024 });
    const controller = new AbortController();
    engine.events.on('source:progress', () => controller.abort());
    const error = await rejectionOf(engine.backup({ signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(await archiveKeys(storage)).toEqual([]);
    // No backup connection is left behind.
    await new Promise((r) => setTimeout(r, 200));
    const left = await sql(
      server,
      'postgres',
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat'",
      [db],
    );
    expect(left).toEqual([]);
  });

  it('describes and checks health without a password', async () => {
    const source = sourceFor(server, db);
    expect(source.describe()).toBe(`postgres://postgres@127.0.0.1:${server.port}/${db}`);
    const [check] = await source.health();
    expect(check!.status).toBe('ok');
    expect(check!.message).toMatch(/PostgreSQL \d+/);
  });
});

describe('connection faults', () => {
  const embedded = embeddedServer;
  beforeAll(() => embedded.start());

  it('a wrong password is DATABASE_AUTH_FAILED and the password appears nowhere', async () => {
    const password = 'Wrong-Pa55word-xyz';
    // The embedded server uses scram: local 127.0.0.1 trust on the system server accepts anything.
    const source = sourceFor(embedded, 'postgres', { password });
    const engine = createEngine({ sources: [source], storage: memoryStorage() });
    const error = await rejectionOf(engine.backup());
    expect(error.code).toBe('DATABASE_AUTH_FAILED');
    expect(error.message).toMatch(/password authentication failed/);
    expect(JSON.stringify(error.toJSON())).not.toContain(password);
    expect(error.message).not.toContain(password);
    const [check] = await source.health();
    expect(check!.status).toBe('critical');
    expect(check!.message).not.toContain(password);
    // Same through a connection string: neither the URL nor the password leaks.
    const url = `postgres://postgres:${password}@127.0.0.1:${embedded.port}/postgres`;
    const viaUrl = postgresSource({ connectionString: url });
    expect(viaUrl.describe()).not.toContain(password);
    const error2 = await rejectionOf(viaUrl.connect());
    expect(error2.code).toBe('DATABASE_AUTH_FAILED');
    expect(error2.message).not.toContain(password);
  });

  it('an unreachable server is DATABASE_UNREACHABLE and retryable', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const source = postgresSource({
      host: '127.0.0.1',
      port,
      database: 'x',
      password: 'Secret-123456',
    });
    const error = await rejectionOf(source.connect());
    expect(error.code).toBe('DATABASE_UNREACHABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).not.toContain('Secret-123456');
  });

  it('invalid options are CONFIG_INVALID', () => {
    expect(() => postgresSource({ host: 'h' } as never)).toThrow(/database/);
    expect(() => postgresSource({ database: 'd', jobs: 0 })).toThrow(/jobs/);
    expect(() => postgresSource({ database: 'd', bogus: 1 } as never)).toThrow(/bogus/);
  });
});
