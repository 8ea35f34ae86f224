import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitGucList } from '../src/database-properties.js';
import { engineFor } from './support/engine.js';
import { dropDatabasesThenRoles } from './support/roles.js';
import {
  createDatabase,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const tag = randomBytes(3).toString('hex');
const owner = `lb_dbl_owner_${tag}`;
const reader = `lb_dbl_reader_${tag}`;

/** The database's own properties as the catalog holds them. */
const picture = async (server: TestServer, database: string) => {
  const [row] = await sql<Record<string, unknown>>(
    server,
    database,
    `SELECT d.datdba::regrole::text AS owner, d.datconnlimit AS connection_limit,
       shobj_description(d.oid, 'pg_database') AS comment,
       (SELECT array_agg(coalesce(e.grantee::regrole::text, '-') || ':' || e.privilege_type || ':' || e.is_grantable
          ) FROM aclexplode(d.datacl) e WHERE e.grantee = 0 OR e.grantee <> d.datdba) AS acl,
       (SELECT array_agg(coalesce(s.setrole::regrole::text, '-') || ':' || s.setconfig::text)
          FROM pg_db_role_setting s WHERE s.setdatabase = d.oid) AS settings
     FROM pg_database d WHERE d.datname = current_database()`,
  );
  // Sorted here: an aggregate's ORDER BY 1 sorts by the constant 1.
  for (const k of ['acl', 'settings']) (row![k] as string[] | null)?.sort();
  return row;
};

/** pg_dump --create --schema-only, with the database's name made neutral. */
function dumpCreate(server: TestServer, database: string): string[] | undefined {
  if (!server.name.includes('15')) return undefined;
  const result = spawnSync(
    'pg_dump',
    [
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      server.user,
      '--create',
      '--schema-only',
      database,
    ],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: server.password ?? '' } },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout
    .replaceAll(database, 'DB')
    .split('\n')
    .filter(
      (l) =>
        l !== '' &&
        !l.startsWith('--') &&
        !l.startsWith('\\restrict') &&
        !l.startsWith('\\unrestrict'),
    );
}

describe('GUC lists', () => {
  it('are split as SplitGUCList does', () => {
    expect(splitGucList('app, "$user", public')).toEqual(['app', '$user', 'public']);
    expect(splitGucList('"a ""b"", c",d')).toEqual(['a "b", c', 'd']);
    expect(splitGucList('""')).toEqual(['']);
    expect(splitGucList('')).toEqual([]);
  });
});

describe.each(servers)('database-level properties on $name', (server) => {
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let original: Record<string, unknown> | undefined;

  beforeAll(async () => {
    await server.start();
    await sql(server, 'postgres', `CREATE ROLE ${owner} NOLOGIN`);
    await sql(server, 'postgres', `CREATE ROLE ${reader} NOLOGIN`);
    source = await createDatabase(server, `dbl${tag}`);
    await sql(
      server,
      'postgres',
      `ALTER DATABASE ${source} OWNER TO ${owner};
       COMMENT ON DATABASE ${source} IS 'the app''s database';
       ALTER DATABASE ${source} CONNECTION LIMIT 7;
       ALTER DATABASE ${source} SET work_mem TO '12MB';
       ALTER DATABASE ${source} SET search_path TO app, "$user", "odd, name", public;
       ALTER DATABASE ${source} SET lifeboat_test.flag TO 'it''s on';
       ALTER ROLE ${reader} IN DATABASE ${source} SET statement_timeout TO '5s';
       ALTER ROLE ${reader} IN DATABASE ${source} SET DateStyle TO 'SQL, DMY';
       REVOKE CONNECT, TEMPORARY ON DATABASE ${source} FROM PUBLIC;
       GRANT CONNECT ON DATABASE ${source} TO ${reader};
       GRANT CREATE ON DATABASE ${source} TO ${reader} WITH GRANT OPTION;
       GRANT TEMPORARY ON DATABASE ${source} TO PUBLIC;`,
    );
    await sql(server, source, 'CREATE TABLE public.t (id int PRIMARY KEY)');
    original = await picture(server, source);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
  }, 120_000);

  afterAll(() => dropDatabasesThenRoles(server, `dbl${tag}`, [owner, reader]));

  it('a database the restore creates gets them, as pg_restore --create gives them', async () => {
    expect(original).toMatchObject({ owner, connection_limit: 7, comment: "the app's database" });
    expect(original!.settings).toHaveLength(2);
    const target = uniqueName(`dbl${tag}_new`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    expect(await picture(server, target)).toEqual(original);
    const dumped = dumpCreate(server, source);
    if (dumped) expect(dumpCreate(server, target)).toEqual(dumped);
  }, 120_000);

  it('a restore into an existing database leaves them alone, as pg_restore without --create', async () => {
    const target = await createDatabase(server, `dbl${tag}_existing`);
    const before = await picture(server, target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    expect(await picture(server, target)).toEqual(before);
  }, 120_000);

  it('--no-owner, --no-privileges and --no-comments leave those out, settings stay', async () => {
    const target = uniqueName(`dbl${tag}_choices`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', {
      postgres: { targetDatabase: target, noOwner: true, noPrivileges: true, noComments: true },
    });
    expect(await picture(server, target)).toEqual({
      ...original,
      owner: server.user,
      comment: null,
      acl: null,
    });
  }, 120_000);
});
