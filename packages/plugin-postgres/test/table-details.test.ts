import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
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

const fixture = fileURLToPath(new URL('./fixtures/table-details.sql', import.meta.url));

/**
 * What pg_dump keeps of a table besides its columns and rows, read from the catalog (for the
 * embedded 18, which the installed pg_dump 15 cannot read).
 */
async function tableDetails(server: TestServer, database: string) {
  const q = (text: string) => sql(server, database, text);
  return {
    relations:
      await q(`SELECT c.oid::regclass::text AS rel, c.relkind, am.amname, c.reloftype::regtype::text AS of_type,
        c.reloptions, t.reloptions AS toast_options, c.relreplident, c.relpersistence
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_am am ON am.oid = c.relam
      LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
      WHERE n.nspname = 'td' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1`),
    columns:
      await q(`SELECT a.attrelid::regclass::text AS rel, a.attname, a.attstorage, a.attcompression,
        NULLIF(a.attstattarget, -1)::int AS stattarget,
        -- pg_attver: an option this server stamps on every column by itself, as pg_dump knows.
        array(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_%') AS attoptions, a.attnotnull, a.attgenerated,
        pg_get_expr(d.adbin, d.adrelid) AS def, a.attislocal, a.attinhcount
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'td' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, a.attnum`),
    constraints:
      await q(`SELECT co.conrelid::regclass::text AS rel, co.conname, pg_get_constraintdef(co.oid) AS def,
        co.convalidated, co.connoinherit, co.conislocal, co.coninhcount
      FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
      WHERE n.nspname = 'td' AND co.contype <> 'n' AND co.conrelid <> 0 ORDER BY 1, 2`),
    indexes:
      await q(`SELECT i.indexrelid::regclass::text AS index, i.indisclustered, i.indisreplident,
        (SELECT array_agg(a.attstattarget ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = i.indexrelid) AS stats
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'td' ORDER BY 1`),
    views:
      await q(`SELECT c.oid::regclass::text AS rel, pg_get_viewdef(c.oid) AS def FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'td' AND c.relkind IN ('v', 'm') ORDER BY 1`),
    triggers:
      await q(`SELECT t.tgrelid::regclass::text AS rel, t.tgname, t.tgenabled FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'td' AND NOT t.tgisinternal ORDER BY 1, 2`),
    rules:
      await q(`SELECT r.ev_class::regclass::text AS rel, r.rulename, r.ev_enabled FROM pg_rewrite r
      JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'td' AND r.rulename <> '_RETURN' ORDER BY 1, 2`),
  };
}

describe.each(servers)('table and column details on $name', (server) => {
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let original: Awaited<ReturnType<typeof tableDetails>>;
  let dumped: Awaited<ReturnType<typeof pgDumpPicture>>;

  beforeAll(async () => {
    await server.start();
    source = await createDatabase(server, 'tabdetails');
    psql(server, source, ['-v', 'ON_ERROR_STOP=1', '-f', fixture]);
    original = await tableDetails(server, source);
    dumped = await pgDumpPicture(server, source);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
  }, 120_000);

  const judge = async (target: string) => {
    expect(await tableDetails(server, target)).toEqual(original);
    // pg_dump judges wherever it can read the server.
    if (dumped) expect(await pgDumpPicture(server, target)).toEqual(dumped);
  };

  it('restores access methods, storage parameters, replica identity, column storage, compression, statistics and options, typed tables, inherited and partition columns, rule and trigger states, views in loops and reading themselves', async () => {
    const target = uniqueName('tabdetails_r');
    trackDatabase(server, target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    await judge(target);
    // The fixture sets each of them: a comparison of defaults would prove nothing.
    const columns = original.columns as Record<string, unknown>[];
    expect(columns.some((c) => c.attstorage === 'e')).toBe(true);
    expect(columns.some((c) => c.stattarget === 90)).toBe(true);
    expect(original.relations.some((r) => r.relreplident === 'f')).toBe(true);
  }, 120_000);

  it('restores the same with psql alone', async () => {
    const dir = await extractArchive(backup.storage);
    const target = await createDatabase(server, 'tabdetails_psql');
    psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    await judge(target);
  }, 120_000);
});
