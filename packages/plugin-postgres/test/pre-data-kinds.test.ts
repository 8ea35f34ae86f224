import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { kindsPicture } from './support/kinds-picture.js';
import { pgDumpPicture } from './support/pgdump.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const fixture = fileURLToPath(new URL('./fixtures/pre-data-kinds.sql', import.meta.url));

async function picture(server: TestServer, database: string) {
  return {
    kinds: await kindsPicture(server, database),
    dump: await pgDumpPicture(server, database),
  };
}

describe.each(servers)('pre-data object kinds on $name', (server) => {
  const owner = `lb_kinds_${randomBytes(3).toString('hex')}`;
  const databases: string[] = [];
  let backup: ReturnType<typeof engineFor>;
  let original: Awaited<ReturnType<typeof picture>>;

  beforeAll(async () => {
    await server.start();
    await sql(server, 'postgres', `CREATE ROLE ${owner} NOLOGIN`);
    const source = await createDatabase(server, 'prekinds');
    databases.push(source);
    psql(server, source, ['-v', 'ON_ERROR_STOP=1', '-v', `owner=${owner}`, '-f', fixture]);
    original = await picture(server, source);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    for (const d of databases) await sql(server, d, `DROP OWNED BY ${owner}`).catch(() => {});
    await sql(server, 'postgres', `DROP ROLE IF EXISTS ${owner}`).catch(() => {});
  });

  it('restores collations, conversions, text search objects, languages, transforms, casts, access methods, foreign data wrappers, servers and user mappings', async () => {
    const target = uniqueName('prekinds_r');
    trackDatabase(server, target);
    databases.push(target);
    await backup.engine.restore('latest', { targetDatabase: target });
    const restored = await picture(server, target);
    expect(restored.kinds).toEqual(original.kinds);
    // pg_dump judges wherever it can read the server.
    if (original.dump) expect(restored.dump).toEqual(original.dump);
    // The fixture sets each of them: a comparison of empty lists would prove nothing.
    for (const [kind, rows] of Object.entries(original.kinds))
      expect(rows.length, kind).toBeGreaterThan(0);
    expect(original.kinds.userMappings).toHaveLength(2);
  }, 120_000);

  it('restores the same with psql alone', async () => {
    const dir = await extractArchive(backup.storage);
    const target = await createDatabase(server, 'prekinds_psql');
    databases.push(target);
    psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    const restored = await picture(server, target);
    expect(restored.kinds).toEqual(original.kinds);
    if (original.dump) expect(restored.dump).toEqual(original.dump);
  }, 120_000);
});
