import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresRestoreOptions } from '@lifeboat/plugin-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const role = `lb_choice_${randomBytes(3).toString('hex')}`;

/** Owners, grants, comments, policies and three schemas, each worth leaving out. */
const fixture = `
CREATE SCHEMA app AUTHORIZATION ${role};
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'the app';
CREATE TABLE app.users (id int PRIMARY KEY, name text NOT NULL, boss int REFERENCES app.users);
ALTER TABLE app.users OWNER TO ${role};
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.name IS 'full name';
CREATE INDEX users_name ON app.users (name);
COMMENT ON INDEX app.users_name IS 'by name';
ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.users FOR SELECT TO ${role} USING (id > 0);
CREATE POLICY everyone ON app.users USING (true);
COMMENT ON POLICY everyone ON app.users IS 'all rows';
CREATE VIEW app.names AS SELECT name FROM app.users;
GRANT SELECT ON app.names TO PUBLIC;
CREATE TABLE public.orgs (id int PRIMARY KEY, title text);
CREATE TABLE public.members (org int REFERENCES public.orgs, who text);
ALTER TABLE public.members OWNER TO ${role};
CREATE TABLE audit.log (id bigserial PRIMARY KEY, what text);
GRANT USAGE ON SCHEMA audit TO ${role};
GRANT INSERT ON audit.log TO PUBLIC;
GRANT SELECT (what) ON audit.log TO ${role};
CREATE FUNCTION audit.note(t text) RETURNS void LANGUAGE sql AS $$ INSERT INTO audit.log(what) VALUES (t) $$;
COMMENT ON FUNCTION audit.note(text) IS 'log it; really';
REVOKE EXECUTE ON FUNCTION audit.note(text) FROM PUBLIC;
INSERT INTO public.orgs VALUES (1, 'one'), (2, 'two');
INSERT INTO public.members VALUES (1, 'ann');
INSERT INTO app.users VALUES (1, 'ann', NULL), (2, 'bob', 1);
INSERT INTO audit.log (what) VALUES ('x'), ('y');
CREATE PUBLICATION pub_orgs FOR TABLE public.orgs;
COMMENT ON PUBLICATION pub_orgs IS 'orgs out';
DO $$BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${role}', current_database()); END$$;
ALTER PUBLICATION pub_orgs OWNER TO ${role};
CREATE SUBSCRIPTION sub_elsewhere CONNECTION 'dbname=nowhere' PUBLICATION pub_x WITH (connect = false);
`;

const run = (command: string, args: string[], server: TestServer) => {
  const result = spawnSync(
    command,
    ['-h', server.host, '-p', String(server.port), '-U', server.user, ...args],
    { env: { ...process.env, PGPASSWORD: server.password ?? '' }, encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
};

// pg_dump and pg_restore here are 15: they judge on the local PostgreSQL 15.
const local = servers.filter((s) => s.name.includes('15'));

describe.each(local)('restore-time choices on $name, judged by pg_restore', (server) => {
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let work: string;

  beforeAll(async () => {
    await server.start();
    await sql(server, 'postgres', `CREATE ROLE ${role} NOLOGIN`);
    source = owned(await createDatabase(server, 'choices'));
    await sql(server, source, fixture);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
    work = await mkdtemp(join(tmpdir(), 'lifeboat-choices-'));
  }, 120_000);

  // Only the databases of this run: dropping every lb_choice% database also dropped those of
  // another run of this file on the same server, under its feet.
  const databases: string[] = [];
  const owned = (name: string) => {
    trackDatabase(server, name);
    databases.push(name);
    return name;
  };

  afterAll(async () => {
    for (const name of databases) {
      // A database holding a subscription cannot be dropped: it goes first (without its slot).
      await sql(
        server,
        name,
        `DO $$BEGIN IF EXISTS (SELECT FROM pg_subscription WHERE subname = 'sub_elsewhere'
           AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())) THEN
           ALTER SUBSCRIPTION sub_elsewhere SET (slot_name = NONE); DROP SUBSCRIPTION sub_elsewhere;
         END IF; END$$`,
      ).catch(() => {});
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /**
   * pg_dump -Fc with `dumpFlags`, then pg_restore with `restoreFlags` into a new database; an
   * optional TOC filter stands in for a pg_restore option this version lacks.
   */
  const pgRestored = (
    dumpFlags: string[],
    restoreFlags: string[],
    toc?: (line: string) => boolean,
  ) => {
    const file = join(work, `${randomBytes(4).toString('hex')}.dump`);
    run('pg_dump', ['-Fc', '-f', file, ...dumpFlags, source], server);
    const target = uniqueName('choice_pg');
    owned(target);
    run('createdb', ['-T', 'template0', target], server);
    const args = [...restoreFlags];
    if (toc) {
      const list = join(work, `${randomBytes(4).toString('hex')}.list`);
      const lines = run('pg_restore', ['-l', file], server).split('\n').filter(toc);
      spawnSync('sh', ['-c', 'cat > "$0"', list], { input: lines.join('\n') });
      args.push('-L', list);
    }
    run('pg_restore', ['-d', target, '--exit-on-error', ...args, file], server);
    return target;
  };

  const lifeboatRestored = async (options: PostgresRestoreOptions) => {
    const target = uniqueName('choice_lb');
    owned(target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target, ...options } });
    return target;
  };

  const cases: {
    name: string;
    options: PostgresRestoreOptions;
    dump?: string[];
    restore?: string[];
    toc?: (line: string) => boolean;
  }[] = [
    // No rows, no sequence values (audit.log's bigserial stays at its start), no large objects.
    { name: '--schema-only', options: { schemaOnly: true }, restore: ['--schema-only'] },
    { name: '--no-owner', options: { noOwner: true }, restore: ['--no-owner'] },
    { name: '--no-privileges', options: { noPrivileges: true }, restore: ['--no-privileges'] },
    { name: '--no-comments', options: { noComments: true }, restore: ['--no-comments'] },
    {
      name: '--no-publications',
      options: { noPublications: true },
      restore: ['--no-publications'],
    },
    {
      name: '--no-subscriptions',
      options: { noSubscriptions: true },
      restore: ['--no-subscriptions'],
    },
    {
      // pg_restore 18's --no-policies leaves out POLICY and ROW SECURITY entries (and their
      // comments); pg_restore 15 is given the same list by hand.
      name: '--no-policies',
      options: { noPolicies: true },
      toc: (l) => !/ (POLICY|ROW SECURITY) /.test(l),
    },
    { name: '--schema app', options: { schemas: ['app'] }, dump: ['-n', 'app'] },
    {
      name: '--exclude-schema app,audit',
      options: { excludeSchemas: ['APP', 'aud*'] },
      dump: ['-N', 'app', '-N', 'aud*'],
    },
    {
      name: '--exclude-table-data',
      options: { excludeTableData: ['app.users', 'audit.*'] },
      dump: ['--exclude-table-data', 'app.users', '--exclude-table-data', 'audit.*'],
    },
    {
      name: 'a filter file',
      options: {
        filter: {
          name: 'choices.filter',
          text: '# the app only\ninclude schema "app"  # quoted\nexclude table_data app.us?rs\n\n',
        },
        noOwner: true,
      },
      dump: ['-n', 'app', '--exclude-table-data', 'app.users'],
      restore: ['--no-owner'],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: pg_dump of the copy equals that of pg_restore's`, async () => {
      const ours = await lifeboatRestored(c.options);
      const theirs = pgRestored(c.dump ?? [], c.restore ?? [], c.toc);
      const [a, b, original] = await Promise.all([
        pgDumpPicture(server, ours),
        pgDumpPicture(server, theirs),
        pgDumpPicture(server, source),
      ]);
      expect(a).toEqual(b);
      // The choice left something out: the copy is not the original.
      expect(a).not.toEqual(original);
    }, 120_000);
  }

  it('psql alone: restore.psql -v no_owner=1 -v no_privileges=1 equals pg_restore --no-owner --no-privileges', async () => {
    const folder = await extractArchive(backup.storage);
    const ours = owned(await createDatabase(server, 'choice_psql'));
    psql(
      server,
      ours,
      ['-v', 'no_owner=1', '-v', 'no_privileges=1', '-f', 'database/restore.psql'],
      folder,
    );
    const theirs = pgRestored([], ['--no-owner', '--no-privileges']);
    const [a, b] = await Promise.all([pgDumpPicture(server, ours), pgDumpPicture(server, theirs)]);
    expect(a).toEqual(b);
    // Without the variables, owners and grants come back as in the original.
    const full = owned(await createDatabase(server, 'choice_psql_full'));
    psql(server, full, ['-f', 'database/restore.psql'], folder);
    expect(await pgDumpPicture(server, full)).toEqual(await pgDumpPicture(server, source));
  }, 120_000);

  it('--data-only into the tables --schema-only made equals pg_restore -s, then -a --disable-triggers', async () => {
    const ours = await lifeboatRestored({ schemaOnly: true });
    const empty = await pgDumpPicture(server, ours);
    await backup.engine.restore('latest', { postgres: { targetDatabase: ours, dataOnly: true } });
    const theirs = pgRestored([], ['--schema-only']);
    const file = join(work, `${randomBytes(4).toString('hex')}.dump`);
    run('pg_dump', ['-Fc', '-f', file, source], server);
    run(
      'pg_restore',
      ['-d', theirs, '--exit-on-error', '--data-only', '--disable-triggers', file],
      server,
    );
    const [a, b, original] = await Promise.all([
      pgDumpPicture(server, ours),
      pgDumpPicture(server, theirs),
      pgDumpPicture(server, source),
    ]);
    expect(a).toEqual(b);
    // Schema, then data: the whole database (rows and sequence values) that was empty before.
    expect(a).toEqual(original);
    expect(empty?.data).not.toEqual(a?.data);
    expect(empty?.schema).toEqual(a?.schema);
  }, 120_000);

  it('--data-only checks its tables before writing; -s/-a, -a/--clean, -s/--tables are usage errors', async () => {
    // No database, and a database without the tables: TABLE_NOT_FOUND naming them.
    await expect(
      backup.engine.restore('latest', {
        postgres: { targetDatabase: uniqueName('choice_none'), dataOnly: true },
      }),
    ).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    const bare = owned(await createDatabase(server, 'choice_bare'));
    await expect(
      backup.engine.restore('latest', { postgres: { targetDatabase: bare, dataOnly: true } }),
    ).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
      message: expect.stringMatching(/app\.users/),
    });
    // Tables that hold rows are refused, and stay as they were.
    const full = await lifeboatRestored({ schemaOnly: true });
    await sql(server, full, "INSERT INTO public.orgs VALUES (9, 'mine')");
    await expect(
      backup.engine.restore('latest', { postgres: { targetDatabase: full, dataOnly: true } }),
    ).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY', message: expect.stringMatching(/orgs/) });
    expect(await sql(server, full, 'SELECT count(*)::int AS n FROM app.users')).toEqual([{ n: 0 }]);
    for (const options of [
      { schemaOnly: true, dataOnly: true },
      { dataOnly: true, clean: true },
      { schemaOnly: true, tables: ['public.orgs'] },
    ]) {
      await expect(
        backup.engine.restore('latest', { postgres: { targetDatabase: full, ...options } }),
      ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
  }, 120_000);

  it("a filter file's include table restores those tables (pg_restore --filter reads it as -t); exclude table is refused", async () => {
    const target = await lifeboatRestored({});
    await sql(
      server,
      target,
      'DELETE FROM app.users WHERE boss IS NOT NULL; DELETE FROM public.members',
    );
    await backup.engine.restore('latest', {
      postgres: {
        targetDatabase: target,
        clean: true,
        filter: { name: 'tables.filter', text: 'include table app.us?rs  # the people\n' },
      },
    });
    const counts = await sql<{ users: number; members: number }>(
      server,
      target,
      'SELECT (SELECT count(*)::int FROM app.users) AS users, (SELECT count(*)::int FROM public.members) AS members',
    );
    // app.users has its rows back; public.members, not named, was left as it was.
    expect(counts[0]).toEqual({ users: 2, members: 0 });
    await expect(
      backup.engine.restore('latest', {
        postgres: {
          targetDatabase: uniqueName('choice_bad'),
          filter: { name: 'f', text: 'include schema app\nexclude table app.users\n' },
        },
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/"exclude table" lines \(app\.users\)/),
    });
  }, 120_000);

  it('a choice with --tables is a usage error, before anything is written', async () => {
    const target = owned(await createDatabase(server, 'choice_partial'));
    await expect(
      backup.engine.restore('latest', {
        postgres: { targetDatabase: target, tables: ['public.orgs'], noOwner: true },
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(
      backup.engine.restore('latest', {
        postgres: {
          targetDatabase: uniqueName('choice_bad'),
          filter: { name: 'f', text: 'include table app.users\nexclude functions x\n' },
        },
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/line 2/) });
  });
});
