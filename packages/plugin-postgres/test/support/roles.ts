import { extractArchive } from './engine.js';
import { createDatabase, psql, type TestServer } from './servers.js';

export { dropDatabasesThenRoles } from '@lifeboat/test-support/postgres';

/**
 * Restores the stored archive with psql alone (restore.psql from the extracted folder) into a
 * new database named after `prefix`; `vars` are psql -v settings (`no_owner=1`).
 */
export async function restoredByPsql(
  server: TestServer,
  storage: Parameters<typeof extractArchive>[0],
  prefix: string,
  vars: string[] = [],
): Promise<string> {
  const dir = await extractArchive(storage);
  const target = await createDatabase(server, prefix);
  const settings = ['ON_ERROR_STOP=1', ...vars].flatMap((v) => ['-v', v]);
  psql(server, target, [...settings, '-f', 'database/restore.psql'], dir);
  return target;
}
