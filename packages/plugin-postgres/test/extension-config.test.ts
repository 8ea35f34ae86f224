import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { pgDumpPicture } from './support/pgdump.js';
import { dropDatabasesThenRoles, restoredByPsql } from './support/roles.js';
import {
  createDatabase,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const tag = randomBytes(3).toString('hex');
const extension = `lb_cfg_${tag}`;

/**
 * A tiny extension with two configuration tables: one filtered (its own standard rows are not
 * data to keep), one whole, with a generated column.
 */
const script = `
CREATE TABLE settings (key text PRIMARY KEY, value text, standard boolean NOT NULL DEFAULT false);
INSERT INTO settings VALUES ('version', '1', true), ('mode', 'default', true);
SELECT pg_catalog.pg_extension_config_dump('settings', 'WHERE NOT standard');
CREATE TABLE notes (id int PRIMARY KEY, body text, size int GENERATED ALWAYS AS (length(body)) STORED);
SELECT pg_catalog.pg_extension_config_dump('notes', '');
CREATE SEQUENCE counter;
SELECT pg_catalog.pg_extension_config_dump('counter', '');
`;

/** Installs the extension's files where the server looks for them (root may write there). */
async function install(server: TestServer): Promise<string[]> {
  const [row] = await sql<{ dir: string }>(
    server,
    'postgres',
    "SELECT setting AS dir FROM pg_config WHERE name = 'SHAREDIR'",
  );
  const dir = join(row!.dir, 'extension');
  const files = [join(dir, `${extension}.control`), join(dir, `${extension}--1.0.sql`)];
  await writeFile(
    files[0]!,
    "comment = 'Lifeboat test: configuration tables'\ndefault_version = '1.0'\nrelocatable = true\n",
  );
  await writeFile(files[1]!, script);
  return files;
}

const picture = async (server: TestServer, database: string) => ({
  settings: await sql(server, database, 'SELECT * FROM public.settings ORDER BY key'),
  notes: await sql(server, database, 'SELECT * FROM public.notes ORDER BY id'),
  counter: await sql(server, database, 'SELECT last_value, is_called FROM public.counter'),
});

describe.each(servers)('extension configuration tables on $name', (server) => {
  let files: string[] = [];
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let original: Awaited<ReturnType<typeof picture>>;
  let dumped: Awaited<ReturnType<typeof pgDumpPicture>>;

  beforeAll(async () => {
    await server.start();
    files = await install(server);
    source = await createDatabase(server, `cfg${tag}`);
    await sql(
      server,
      source,
      `CREATE EXTENSION ${extension};
       INSERT INTO public.settings VALUES ('theme', 'dark', false), ('odd', E'a,"b"\\nc', false);
       INSERT INTO public.notes (id, body) VALUES (1, 'hello'), (2, NULL);
       SELECT setval('public.counter', 42);`,
    );
    original = await picture(server, source);
    dumped = await pgDumpPicture(server, source);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await dropDatabasesThenRoles(server, `cfg${tag}`, []);
    for (const f of files) await rm(f, { force: true });
  });

  const judge = async (target: string) => {
    expect(await picture(server, target)).toEqual(original);
    if (dumped) expect(await pgDumpPicture(server, target)).toEqual(dumped);
  };

  it('keeps the rows users added, through the extension filter', async () => {
    expect(original.settings).toHaveLength(4);
    expect(original.counter).toEqual([{ last_value: '42', is_called: true }]);
    const dir = await extractArchive(backup.storage);
    const csv = await readFile(join(dir, 'database', 'data', 'public.settings.csv'), 'utf8');
    // The extension's own rows are left to CREATE EXTENSION, as pg_dump leaves them.
    expect(csv).not.toContain('version');
    expect(csv).toContain('theme');
  });

  it('restores them after the extension is created, by the engine', async () => {
    const target = uniqueName(`cfg${tag}_new`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    await judge(target);
  }, 120_000);

  it('restores them into an existing database, over another copy with --clean', async () => {
    const target = await createDatabase(server, `cfg${tag}_existing`);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    await judge(target);
    await backup.engine.restore('latest', {
      confirm: true,
      postgres: { targetDatabase: target, clean: true },
    });
    await judge(target);
  }, 120_000);

  it('restores them with psql alone', async () => {
    await judge(await restoredByPsql(server, backup.storage, `cfg${tag}_psql`));
  }, 120_000);

  it('a deep verify counts the extension rows beside them', async () => {
    const report = await backup.engine.verify('latest', { deep: true });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  }, 120_000);
});
