import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { newEmbeddedPostgres } from './embedded-postgres.js';
import { freePort } from './ports.js';

/**
 * An embedded PostgreSQL with TLS: a certificate for `localhost` (not 127.0.0.1) signed by a CA
 * made here (`ca.pem`; `wrong-ca.pem` signed nothing), and a pg_hba.conf that takes SSL
 * connections only (hostnossl is rejected), so a session that works went over TLS. Password
 * authentication (scram). `log` collects the server's log (log_connections is on).
 */
export interface TlsServer {
  port: number;
  password: string;
  log: string[];
  stop(): Promise<void>;
}

export async function startTlsServer(
  work: string,
  database: string,
  setup: string,
): Promise<TlsServer> {
  const PASSWORD = 'tls-Secret-9821';
  const serverLog: string[] = [];
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const makeCa = (name: string) =>
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);

  makeCa('ca');
  makeCa('wrong-ca');
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  await fs.writeFile(join(work, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  await fs.chmod(join(work, 'server.key'), 0o600);
  await fs.mkdir(join(work, 'home'));
  const port = await freePort();
  const { dir, server } = newEmbeddedPostgres({
    name: 'tls-pg',
    port,
    password: PASSWORD,
    flags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'ssl=on',
      '-c',
      'ssl_cert_file=server.crt',
      '-c',
      'ssl_key_file=server.key',
      '-c',
      'log_connections=on',
    ],
    log: (m) => serverLog.push(String(m)),
  });
  await server.initialise();
  // The certificate and key in the data folder (relative paths are the data folder's), the
  // server's own: PostgreSQL refuses a key others can read.
  const owner = await fs.stat(dir);
  for (const name of ['server.crt', 'server.key']) {
    await fs.copyFile(join(work, name), join(dir, name));
    await fs.chown(join(dir, name), owner.uid, owner.gid);
    await fs.chmod(join(dir, name), 0o600);
  }
  // SSL connections only: without TLS the server answers "no pg_hba.conf entry".
  await fs.writeFile(
    join(dir, 'pg_hba.conf'),
    'hostnossl all all 0.0.0.0/0 reject\nhostssl all all 127.0.0.1/32 scram-sha-256\n',
  );
  await server.start();
  const client = (name: string) =>
    new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: PASSWORD,
      database: name,
      ssl: { rejectUnauthorized: false },
    });
  const admin = client('postgres');
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const app = client(database);
  await app.connect();
  await app.query(setup);
  await app.end();
  return {
    port,
    password: PASSWORD,
    log: serverLog,
    stop: async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
