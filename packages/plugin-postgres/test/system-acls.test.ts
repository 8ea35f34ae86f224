import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * Privileges changed on objects the database does not create itself: the server's functions and
 * catalogs, plpgsql, the public schema (given to a role that then revoked its own rights), as
 * PostgreSQL's own pg_dump tests change them. pg_dump keeps each difference from pg_init_privs;
 * before, a restore left them at the server's defaults (a function revoked from PUBLIC became
 * callable by everyone again).
 */
const picture = (server: TestServer, db: string) =>
  sql<{ what: string; acl: string | null }>(
    server,
    db,
    `SELECT 'schema public' AS what, nspacl::text AS acl FROM pg_namespace WHERE nspname = 'public'
     UNION ALL SELECT 'owner of public', pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'public'
     UNION ALL SELECT 'language plpgsql', lanacl::text FROM pg_language WHERE lanname = 'plpgsql'
     UNION ALL SELECT 'pg_sleep', proacl::text FROM pg_proc WHERE oid = 'pg_catalog.pg_sleep(float8)'::regprocedure
     UNION ALL SELECT 'pg_stat_reset', proacl::text FROM pg_proc WHERE oid = 'pg_catalog.pg_stat_reset()'::regprocedure
     UNION ALL SELECT 'pg_proc', relacl::text FROM pg_class WHERE oid = 'pg_catalog.pg_proc'::regclass
     UNION ALL SELECT 'pg_proc.' || attname, attacl::text FROM pg_attribute
       WHERE attrelid = 'pg_catalog.pg_proc'::regclass AND attacl IS NOT NULL
     ORDER BY 1`,
  );

describe.each(servers)('privileges on the server’s own objects on $name', (server) => {
  it('come back as the source had them, through the engine and psql alone', async () => {
    await server.start();
    const role = `lb_sysacl_${randomBytes(3).toString('hex')}`;
    await sql(server, 'postgres', `CREATE ROLE ${role} NOLOGIN`);
    const db = await createDatabase(server, 'sysacl');
    const fresh = await picture(server, db);
    await sql(
      server,
      db,
      `ALTER SCHEMA public OWNER TO ${role};
       REVOKE ALL ON SCHEMA public FROM ${role};
       REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;
       REVOKE EXECUTE ON FUNCTION pg_sleep(float8) FROM PUBLIC;
       GRANT EXECUTE ON FUNCTION pg_sleep(float8) TO ${role} WITH GRANT OPTION;
       REVOKE EXECUTE ON FUNCTION pg_stat_reset() FROM CURRENT_USER;
       REVOKE SELECT ON pg_proc FROM PUBLIC;
       GRANT SELECT (tableoid, oid, proname) ON pg_proc TO PUBLIC;
       CREATE TABLE public.t (x int);`,
    );
    const before = await picture(server, db);
    expect(before).not.toEqual(fresh);

    const { engine, storage } = engineFor(server, db);
    await engine.backup();
    const copy = uniqueName('sysacl_copy');
    trackDatabase(server, copy);
    await engine.restore('latest', { postgres: { targetDatabase: copy } });
    expect(await picture(server, copy)).toEqual(before);

    const dir = await extractArchive(storage);
    const byPsql = await createDatabase(server, 'sysacl_psql');
    psql(server, byPsql, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    expect(await picture(server, byPsql)).toEqual(before);

    // --no-privileges leaves the server's defaults, as pg_restore -x does (the owner still moves).
    const bare = uniqueName('sysacl_bare');
    trackDatabase(server, bare);
    await engine.restore('latest', { postgres: { targetDatabase: bare, noPrivileges: true } });
    const kept = await picture(server, bare);
    expect(kept.find((r) => r.what === 'pg_sleep')).toEqual(
      fresh.find((r) => r.what === 'pg_sleep'),
    );
    expect(kept.find((r) => r.what === 'pg_proc')).toEqual(fresh.find((r) => r.what === 'pg_proc'));
  });
});
