import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase as createWithLocale } from '../src/database-locale.js';
import { engineFor, extractArchive } from './support/engine.js';
import {
  adminClient,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/** Encoding and locale as pg_database holds them (datlocale is daticulocale before 17). */
const picture = async (server: TestServer, database: string) => {
  const [v] = await sql<{ v: number }>(
    server,
    'postgres',
    `SELECT current_setting('server_version_num')::int AS v`,
  );
  const locale = v!.v >= 170000 ? 'datlocale' : 'daticulocale';
  const [row] = await sql(
    server,
    'postgres',
    `SELECT pg_encoding_to_char(encoding) AS encoding, datlocprovider::text AS provider,
       datcollate AS collate, datctype AS ctype, ${locale} AS locale
     FROM pg_database WHERE datname = $1`,
    [database],
  );
  return row;
};

/** pg_dump --create --schema-only (PostgreSQL 15's pg_dump, for the 15 server), name made neutral. */
function dumpCreate(server: TestServer, database: string): string[] {
  const result = spawnSync(
    'pg_dump',
    ['-h', server.host, '-p', String(server.port), '-U', server.user, '--create', '-s', database],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout
    .replaceAll(database, 'DB')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('--') && !/^\\(un)?restrict/.test(l));
}

const words = ['Zebra', 'apfel', 'Äpfel', 'zebra', 'Apfel', 'éclair'];

describe.each(servers)('encoding and locale of a created database on $name', (server) => {
  const made: Record<string, string> = {};
  const ordered: Record<string, string[]> = {};

  beforeAll(async () => {
    await server.start();
    const kinds = {
      latin1: `ENCODING 'LATIN1' LOCALE 'C'`,
      icu: `ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'`,
    };
    for (const [kind, options] of Object.entries(kinds)) {
      const name = uniqueName(`loc_${kind}`);
      await sql(server, 'postgres', `CREATE DATABASE ${name} TEMPLATE template0 ${options}`);
      trackDatabase(server, name);
      await sql(server, name, 'CREATE TABLE w (word text PRIMARY KEY)');
      await sql(server, name, `INSERT INTO w SELECT unnest($1::text[])`, [words]);
      made[kind] = name;
      ordered[kind] = (
        await sql<{ word: string }>(server, name, 'SELECT word FROM w ORDER BY 1')
      ).map((r) => r.word);
    }
    // The two sort differently: the test would not see a locale that was lost.
    expect(ordered.icu).not.toEqual(ordered.latin1);
  }, 120_000);

  it.each(['latin1', 'icu'])(
    'a %s database is created as the source was: same catalog row, same order, same pg_dump --create',
    async (kind) => {
      const source = made[kind]!;
      const { engine } = engineFor(server, source);
      const backup = await engine.backup();
      expect(backup.warnings).toEqual([]);
      const target = uniqueName(`loc_${kind}_r`);
      trackDatabase(server, target);
      const warnings: string[] = [];
      engine.events.on('warning', (w) => warnings.push(w.code));
      await engine.restore('latest', { postgres: { targetDatabase: target } });
      expect(warnings).not.toContain('DATABASE_LOCALE_CHANGED');
      expect(await picture(server, target)).toEqual(await picture(server, source));
      const rows = await sql<{ word: string }>(server, target, 'SELECT word FROM w ORDER BY 1');
      expect(rows.map((r) => r.word)).toEqual(ordered[kind]);
      if (server.name.includes('15'))
        expect(dumpCreate(server, target)).toEqual(dumpCreate(server, source));
    },
    120_000,
  );

  it('restore.psql says how to create the target as the source was', async () => {
    const { engine, storage } = engineFor(server, made.icu!);
    await engine.backup();
    const dir = await extractArchive(storage);
    const script = await readFile(join(dir, 'database', 'restore.psql'), 'utf8');
    const line = script.split('\n').find((l) => l.startsWith('-- Create TARGET'));
    expect(line).toBeDefined();
    const target = uniqueName('loc_psql');
    trackDatabase(server, target);
    const statement = line!.replace(/^.*?: /, '').replace('TARGET', target);
    await sql(server, 'postgres', statement);
    expect(await picture(server, target)).toEqual(await picture(server, made.icu!));
  }, 120_000);

  it('a locale the target cannot make: the server default, with DATABASE_LOCALE_CHANGED', async () => {
    const target = uniqueName('loc_fallback');
    trackDatabase(server, target);
    const warnings: { code: string; message: string }[] = [];
    const client = adminClient(server);
    await client.connect();
    try {
      await createWithLocale(
        client,
        target,
        {
          encoding: 'UTF8',
          provider: 'c',
          collate: 'xx_NOWHERE.UTF-8',
          ctype: 'xx_NOWHERE.UTF-8',
          locale: null,
          icuRules: null,
        },
        (code, message) => warnings.push({ code, message }),
      );
    } finally {
      await client.end();
    }
    expect(warnings.map((w) => w.code)).toEqual(['DATABASE_LOCALE_CHANGED']);
    expect(warnings[0]!.message).toContain('xx_NOWHERE.UTF-8');
    expect(await picture(server, target)).toMatchObject({ encoding: 'UTF8' });
  }, 60_000);
});
