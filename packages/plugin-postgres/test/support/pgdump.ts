import { spawnSync } from 'node:child_process';
import { sql, type TestServer } from './servers.js';

/** Lines of a pg_dump that differ between two copies of one database by nature, not content. */
const noise = (line: string) =>
  line === '' ||
  line.startsWith('--') ||
  line.startsWith('SET ') ||
  line.includes('set_config') ||
  line.startsWith('\\restrict') ||
  line.startsWith('\\unrestrict');

function pgDump(server: TestServer, database: string, args: string[]): string[] {
  const result = spawnSync(
    'pg_dump',
    ['-h', server.host, '-p', String(server.port), '-U', server.user, ...args, database],
    {
      env: { ...process.env, PGPASSWORD: server.password ?? '' },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (result.status !== 0) throw new Error(`pg_dump failed (${result.status}): ${result.stderr}`);
  return result.stdout.split('\n').filter((l) => !noise(l));
}

/**
 * pg_dump as the judge of fidelity: the schema (`--schema-only`) and the rows (`--data-only
 * --inserts`, sorted) as pg_dump prints them. Only for servers the installed pg_dump (15) can
 * read; `undefined` otherwise.
 */
export async function pgDumpPicture(server: TestServer, database: string) {
  const [{ version } = { version: 0 }] = await sql<{ version: number }>(
    server,
    database,
    "SELECT current_setting('server_version_num')::int AS version",
  );
  if (version >= 160000) return undefined;
  return {
    schema: pgDump(server, database, ['--schema-only']),
    data: pgDump(server, database, ['--data-only', '--inserts']).sort(),
  };
}
