import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine, memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { findUnknownKinds, KNOWN_CATALOGS } from '../src/catalog/unknown-kinds.js';
import { archiveKeys, extractArchive } from './support/engine.js';
import {
  adminClient,
  createDatabase,
  psql,
  servers,
  sourceFor,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * A kind of object Lifeboat has never seen, as a newer server would bring one: a catalog in
 * pg_catalog with an oid column and user rows, and a view that depends on one of its objects
 * (pg_depend), with a view over that view. Real rows in a real server's catalogs.
 */
const UNKNOWN_KIND = `SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_widget (oid oid NOT NULL, widname name NOT NULL);
INSERT INTO pg_catalog.pg_widget VALUES (20001, 'gear'), (20002, 'cog');
RESET allow_system_table_mods;
CREATE TABLE kept (id int PRIMARY KEY, note text);
INSERT INTO kept SELECT g, 'row ' || g FROM generate_series(1, 50) g;
CREATE VIEW kept_view AS SELECT id FROM kept;
CREATE VIEW needs_gear AS SELECT id, note FROM kept;
CREATE VIEW over_needs_gear AS SELECT id FROM needs_gear;
GRANT SELECT ON needs_gear TO PUBLIC;
SET allow_system_table_mods = on;
INSERT INTO pg_catalog.pg_depend VALUES ('pg_catalog.pg_class'::regclass, 'needs_gear'::regclass, 0,
  'pg_catalog.pg_widget'::regclass, 20001, 0, 'n');
RESET allow_system_table_mods;`;

describe.each(servers)('a backup that cannot keep everything fails closed on $name', (server) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'failclosed');
    await sql(server, db, UNKNOWN_KIND);
  });

  it('fails with one error naming every object and the setting, and stores nothing', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [sourceFor(server, db)], storage });
    let copied = 0;
    engine.events.on('source:progress', (p) => {
      copied = Math.max(copied, p.rows ?? 0);
    });
    const error = await rejectionOf(engine.backup());
    expect(error.code).toBe('BACKUP_INCOMPLETE');
    expect(error.message).toContain('gear');
    expect(error.message).toContain('cog');
    expect(error.message).toContain('pg_widget');
    expect(error.hint).toContain('allowIncomplete');
    // Refused before any row was copied, and no archive (complete-looking or not) is left.
    expect(copied).toBe(0);
    expect(await archiveKeys(storage)).toEqual([]);
    const [run] = await engine.history();
    expect(run?.ok).toBe(false);
    expect(run?.error?.code).toBe('BACKUP_INCOMPLETE');
  });

  it('with the opt-in, leaves out the objects and what depends on them, and says so everywhere', async () => {
    const storage = memoryStorage();
    const engine = createEngine({
      sources: [sourceFor(server, db)],
      storage,
      allowIncomplete: true,
      pruneAfterBackup: false,
    });
    const result = await engine.backup();
    const names = result.incomplete.map((o) => o.name);
    expect(names.some((n) => n.includes('gear'))).toBe(true);
    expect(names.some((n) => n.includes('cog'))).toBe(true);
    // The walk follows pg_depend through views: both dependents are named, with the root cause.
    const view = result.incomplete.find((o) => o.name === 'public.needs_gear');
    expect(view?.reason).toContain('gear');
    expect(names).toContain('public.over_needs_gear');
    expect(names).not.toContain('public.kept_view');
    expect(result.warnings.some((w) => w.code === 'BACKUP_INCOMPLETE')).toBe(true);

    const dir = await extractArchive(storage);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.incomplete.map((o: { name: string }) => o.name)).toEqual(names);
    // No DDL in the archive refers to what is left out (the view, its grant, the view over it).
    const pre = await readFile(join(dir, 'database/pre-data.sql'), 'utf8');
    const post = await readFile(join(dir, 'database/post-data.sql'), 'utf8');
    expect(pre + post).not.toMatch(/needs_gear/);
    expect(pre).toMatch(/kept_view/);

    // What it holds restores, through the engine and through psql alone.
    const target = uniqueName('failclosed_copy');
    trackDatabase(server, target);
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    const [count] = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM kept');
    expect(Number(count!.n)).toBe(50);
    const viaPsql = await createDatabase(server, 'failclosed_psql');
    psql(server, viaPsql, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    const [views] = await sql<{ n: string }>(
      server,
      viaPsql,
      "SELECT count(*) AS n FROM pg_views WHERE schemaname = 'public'",
    );
    expect(Number(views!.n)).toBe(1);

    // Health warns while this is the newest backup; status names what is missing.
    const health = await engine.health();
    const check = health.checks.find((c) => c.name === 'backup-complete');
    expect(check?.status).toBe('warning');
    expect(check?.message).toContain('BACKUP_INCOMPLETE');
    expect(health.status).not.toBe('OK');
    const status = await engine.status();
    expect(status.lastSuccess?.incomplete).toBe(names.length);
    expect(status.lastSuccess?.leftOut?.join(' ')).toContain('needs_gear');
  });

  it('finds user objects in catalogs it does not know, and nothing in the ones it reads', async () => {
    const client = adminClient(server, db);
    await client.connect();
    try {
      await client.query('CREATE TEXT SEARCH DICTIONARY fc_dict (TEMPLATE = pg_catalog.simple)');
      const found = await findUnknownKinds(client);
      expect(found.map((o) => o.name).sort()).toEqual(['cog (oid 20002)', 'gear (oid 20001)']);
      // Without pg_ts_dict among the known catalogs, the dictionary is an unknown kind too.
      const known = new Set([...KNOWN_CATALOGS].filter((c) => c !== 'pg_ts_dict'));
      const more = await findUnknownKinds(client, known);
      const dict = more.find((o) => o.name.startsWith('fc_dict (oid '));
      expect(dict?.reason).toContain('pg_ts_dict');
      expect(dict?.key).toMatch(/^pg_ts_dict:\d+$/);
    } finally {
      await client.end();
    }
  });
});

describe.each(servers)('a domain whose default casts to another user type on $name', (server) => {
  it('restores (the default names its type with its schema)', async () => {
    await server.start();
    const db = await createDatabase(server, 'domaindefault');
    await sql(
      server,
      db,
      `CREATE SCHEMA app;
       CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
       SET search_path = app, public;
       CREATE DOMAIN public.m AS app.mood DEFAULT 'ok';
       RESET search_path;
       CREATE TABLE public.feelings (id int, how public.m);
       INSERT INTO public.feelings (id) VALUES (1);`,
    );
    const storage = memoryStorage();
    const engine = createEngine({ sources: [sourceFor(server, db)], storage });
    await engine.backup();
    const target = uniqueName('domaindefault_copy');
    trackDatabase(server, target);
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    const [row] = await sql<{ how: string }>(
      server,
      target,
      'INSERT INTO public.feelings (id) VALUES (2) RETURNING how::text AS how',
    );
    expect(row!.how).toBe('ok');
  });
});
