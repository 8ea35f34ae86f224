import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  embeddedServer,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * `lifeboat backup --filter` judged by pg_dump 15 with the same choice as flags (it has -t/-T/
 * -n/-N/--exclude-table-data, not --filter): the Lifeboat archive restored into an empty
 * database and `pg_dump <flags> | psql` into another must print the same pg_dump --schema-only
 * and the same sorted --data-only --inserts.
 */
const source = servers.find((s) => s !== embeddedServer);

/** Three schemas with a type, function, sequence, table and view each; app reads lib. */
const FIXTURE = `
CREATE EXTENSION hstore;
CREATE SCHEMA lib; CREATE SCHEMA app; CREATE SCHEMA aud;
COMMENT ON SCHEMA lib IS 'shared code';
GRANT USAGE ON SCHEMA app TO PUBLIC;
CREATE TYPE lib.mood AS ENUM ('sad', 'ok', 'happy');
CREATE FUNCTION lib.twice(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i * 2';
CREATE SEQUENCE lib.ticket START 100;
CREATE TABLE lib.books (id serial PRIMARY KEY, title text NOT NULL, mood lib.mood, pages int CHECK (pages > 0));
CREATE VIEW lib.happy AS SELECT id, title FROM lib.books WHERE mood = 'happy';
INSERT INTO lib.books (title, mood, pages) VALUES ('a', 'happy', 10), ('b', 'sad', 20), ('c', NULL, 5);
SELECT nextval('lib.ticket'), nextval('lib.ticket');
CREATE TYPE app.pair AS (a int, b int);
CREATE FUNCTION app.total(p app.pair) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT p.a + p.b';
CREATE SEQUENCE app.order_no START 7;
CREATE TABLE app.orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  book int REFERENCES lib.books, qty int DEFAULT 1, no bigint DEFAULT nextval('app.order_no'));
CREATE INDEX orders_book ON app.orders (book);
CREATE TABLE app.sessions (id serial PRIMARY KEY, token text NOT NULL);
CREATE TABLE app.secrets (k text PRIMARY KEY, v text);
CREATE VIEW app.order_titles AS SELECT o.id, b.title FROM app.orders o JOIN lib.books b ON b.id = o.book;
CREATE VIEW app.big AS SELECT id FROM app.orders WHERE qty > 1;
INSERT INTO app.orders (book, qty) VALUES (1, 2), (2, 1), (1, 5);
INSERT INTO app.sessions (token) VALUES ('t1'), ('t2');
INSERT INTO app.secrets VALUES ('k', 'v');
CREATE TYPE aud.level AS ENUM ('info', 'warn');
CREATE FUNCTION aud.one() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE SEQUENCE aud.seq;
SELECT setval('aud.seq', 42);
CREATE TABLE aud.log (id serial PRIMARY KEY, lvl aud.level, what text);
CREATE VIEW aud.warnings AS SELECT * FROM aud.log WHERE lvl = 'warn';
INSERT INTO aud.log (lvl, what) VALUES ('info', 'x'), ('warn', 'y');
CREATE TABLE public.orgs (id serial PRIMARY KEY, name text);
CREATE TABLE public.order_notes (id int PRIMARY KEY, note text);
CREATE TABLE public.people (id int PRIMARY KEY);
INSERT INTO public.orgs (name) VALUES ('one'), ('two');
INSERT INTO public.order_notes VALUES (1, 'n');
INSERT INTO public.people VALUES (1);
SELECT lo_from_bytea(0, 'a large object');
`;

/** Each case: a filter file, and the pg_dump flags that make the same choice. */
const CASES = [
  {
    name: 'include schema, exclude table, exclude table_data (-n -T --exclude-table-data)',
    filter: [
      '# what the app needs',
      'include schema lib',
      'include schema app   # app reads lib',
      'exclude table app.secrets',
      'exclude table_data app.sessions',
    ],
    flags: ['-n', 'lib', '-n', 'app', '-T', 'app.secrets', '--exclude-table-data', 'app.sessions'],
    emptied: ['app.sessions'],
  },
  {
    name: 'exclude schema that another schema reads (-N)',
    // aud.s* matches the sequence aud.seq: pg_dump leaves out its value too.
    filter: ['exclude schema lib', 'exclude table_data aud.l?g', 'exclude table_data aud.s*'],
    flags: ['-N', 'lib', '--exclude-table-data', 'aud.l?g', '--exclude-table-data', 'aud.s*'],
    emptied: ['aud.log'],
  },
  {
    name: 'include table patterns (-t)',
    filter: ['include table or*', 'include table "people"'],
    flags: ['-t', 'or*', '-t', '"people"'],
    emptied: [],
  },
];

const urlOf = (server: TestServer, db: string) => {
  const password = server.password ? `:${encodeURIComponent(server.password)}` : '';
  return `postgres://${server.user}${password}@${server.host}:${server.port}/${db}`;
};

function run(server: TestServer, command: string, args: string[], input?: string) {
  const result = spawnSync(
    command,
    ['-h', server.host, '-p', String(server.port), '-U', server.user, ...args],
    {
      env: { ...process.env, PGPASSWORD: server.password ?? '' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      ...(input !== undefined ? { input } : {}),
    },
  );
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
}

/** pg_dump's picture of a database: its schema, and its rows sorted. */
function picture(server: TestServer, db: string) {
  const lines = (args: string[]) =>
    run(server, 'pg_dump', [...args, db])
      .split('\n')
      .filter((l) => l !== '' && !/^(--|SET |\\restrict |\\unrestrict )/.test(l))
      .filter((l) => !l.includes('set_config'));
  return { schema: lines(['--schema-only']), data: lines(['--data-only', '--inserts']).sort() };
}

describe.skipIf(!source)(
  'lifeboat backup --filter, judged by pg_dump 15 with the same flags',
  () => {
    const server = source!;
    let db: string;
    let work: string;

    beforeAll(async () => {
      await server.start();
      db = await createDatabase(server, 'clifilter');
      await sql(server, db, FIXTURE);
      work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-clifilter-'));
    }, 120_000);

    afterAll(async () => {
      if (work) await fs.rm(work, { recursive: true, force: true });
      await sql(
        server,
        'postgres',
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE 'clifilter%'`,
      ).catch(() => {});
    });

    it.each(CASES)(
      '$name',
      async (c) => {
        const dir = join(work, uniqueName('case'));
        await fs.mkdir(dir);
        await fs.writeFile(join(dir, 'backup.filter'), `${c.filter.join('\n')}\n`);
        const env = { DATABASE_URL: urlOf(server, db), BACKUP_DIR: join(dir, 'backups') };

        // The path is the user's, relative to where lifeboat runs.
        const backup = await runCli(['backup', '--filter', 'backup.filter', '--json'], env, {
          cwd: dir,
        });
        expect(backup.code, backup.stderr).toBe(0);
        const made = JSON.parse(backup.stdout);
        expect(made.id).toMatch(/^critical_backup_/);
        // The rules as the file says them (comments gone), in the result and the archive.
        const rules = c.filter
          .filter((l) => !l.startsWith('#'))
          .map((l) => l.replace(/\s+#.*$/, ''));
        expect(made.scope).toEqual(rules.map((r) => `database: ${r}`));

        const mine = uniqueName('clifilter_lb');
        trackDatabase(server, mine);
        const restore = await runCli(
          ['restore', 'latest', '--target-database', mine, '--json'],
          env,
        );
        expect(restore.code, restore.stderr).toBe(0);
        expect(JSON.parse(restore.stdout).sections[0].summary.selection).toEqual(rules);

        const theirs = uniqueName('clifilter_pg');
        trackDatabase(server, theirs);
        run(server, 'createdb', ['-T', 'template0', theirs]);
        // psql without ON_ERROR_STOP, as pg_dump's output is usually run: what fails is left out.
        run(server, 'psql', ['-q', '-d', theirs], run(server, 'pg_dump', [...c.flags, db]));

        const a = picture(server, mine);
        const b = picture(server, theirs);
        expect(a.schema).toEqual(b.schema);
        expect(a.data).toEqual(b.data);

        // The archive says what it holds: the rules, and which tables have no rows on purpose.
        const listed = await runCli(['list', '--entries', '--json'], env);
        expect(listed.code, listed.stderr).toBe(0);
        const entries = JSON.parse(listed.stdout);
        expect(entries.rowsLeftOut ?? []).toEqual(c.emptied);
        const text = await runCli(['list', '--entries'], env);
        for (const t of c.emptied) expect(text.stdout).toContain(t);

        // The drill restores it and finds the emptied tables empty, as recorded.
        const verify = await runCli(['verify', 'latest', '--deep', '--json'], env);
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
        expect(JSON.parse(verify.stdout).scope).toEqual(made.scope);
        // Health says the newest backup is partial, and how.
        const health = await runCli(['health', '--json'], env);
        const scope = JSON.parse(health.stdout).checks.find(
          (k: { name: string }) => k.name === 'backup-scope',
        );
        expect(scope?.status).toBe('ok');
        expect(scope?.message).toContain(rules[0]);
      },
      240_000,
    );

    it('every bad line at once, before anything is read', async () => {
      const dir = join(work, 'bad');
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(
        join(dir, 'bad.filter'),
        'include tables x\nexclude schema a.b.c\ninclude table_data t\ninclude table ok\n',
      );
      const env = { DATABASE_URL: urlOf(server, db), BACKUP_DIR: join(dir, 'backups') };
      const bad = await runCli(['backup', '--filter', 'bad.filter', '--json'], env, { cwd: dir });
      expect(bad.code).not.toBe(0);
      const out = bad.stdout + bad.stderr;
      expect(out).toContain('CONFIG_INVALID');
      expect(out).toContain('line 1');
      expect(out).toContain('line 3');
      const missing = await runCli(['backup', '--json'], {
        ...env,
        BACKUP_FILTER: join(dir, 'nope'),
      });
      expect(missing.stdout + missing.stderr).toContain('BACKUP_FILTER: cannot read');
      // A schema pattern that matches nothing fails, as pg_dump's "no matching schemas".
      const none = await runCli(['backup', '--json'], { ...env, BACKUP_SCHEMAS: 'nothing_here' });
      expect(none.code).not.toBe(0);
      expect(none.stdout + none.stderr).toContain('No schema matches "nothing_here"');
    }, 120_000);
  },
);
