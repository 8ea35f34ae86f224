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

const fixture = fileURLToPath(new URL('./fixtures/post-kinds.sql', import.meta.url));

const THIS_DB = '(SELECT oid FROM pg_database WHERE datname = current_database())';

/**
 * Extended statistics, publications, subscriptions, event triggers and default privileges as
 * the catalog holds them (for the embedded 18, which the installed pg_dump 15 cannot read).
 */
async function postKinds(server: TestServer, database: string) {
  const q = (text: string) => sql(server, database, text);
  return {
    statistics:
      await q(`SELECT s.stxnamespace::regnamespace::text AS schema, s.stxname, pg_get_statisticsobjdef(s.oid) AS def,
        NULLIF(s.stxstattarget::int, -1) AS target, s.stxowner::regrole::text AS owner,
        obj_description(s.oid, 'pg_statistic_ext') AS comment
      FROM pg_statistic_ext s ORDER BY 1, 2`),
    publications:
      await q(`SELECT to_jsonb(p) - 'oid' - 'pubowner' AS pub, p.pubowner::regrole::text AS owner,
        obj_description(p.oid, 'pg_publication') AS comment,
        (SELECT array_agg(r.prrelid::regclass::text || coalesce(' ' || pg_get_expr(r.prqual, r.prrelid), '')
           || coalesce(' ' || r.prattrs::text, '') ORDER BY 1) FROM pg_publication_rel r WHERE r.prpubid = p.oid) AS tables,
        (SELECT array_agg(n.pnnspid::regnamespace::text ORDER BY 1) FROM pg_publication_namespace n WHERE n.pnpubid = p.oid) AS schemas
      FROM pg_publication p ORDER BY p.pubname`),
    subscriptions:
      await q(`SELECT to_jsonb(s) - 'oid' - 'subdbid' - 'subowner' - 'subskiplsn' AS sub, s.subowner::regrole::text AS owner,
        obj_description(s.oid, 'pg_subscription') AS comment
      FROM pg_subscription s WHERE s.subdbid = ${THIS_DB} ORDER BY s.subname`),
    eventTriggers:
      await q(`SELECT e.evtname, e.evtevent, e.evtfoid::regproc::text AS fn, e.evtenabled, e.evttags,
        e.evtowner::regrole::text AS owner, obj_description(e.oid, 'pg_event_trigger') AS comment
      FROM pg_event_trigger e ORDER BY 1`),
    defaultPrivileges:
      await q(`SELECT d.defaclrole::regrole::text AS role, d.defaclnamespace::regnamespace::text AS schema,
        d.defaclobjtype, d.defaclacl::text AS acl FROM pg_default_acl d ORDER BY 1, 2, 3`),
  };
}

describe.each(servers)(
  'statistics, publications, subscriptions, event triggers, default privileges on $name',
  (server) => {
    let source: string;
    let backup: ReturnType<typeof engineFor>;
    let original: Awaited<ReturnType<typeof postKinds>>;
    let dumped: Awaited<ReturnType<typeof pgDumpPicture>>;

    beforeAll(async () => {
      await server.start();
      source = await createDatabase(server, 'postkinds');
      psql(server, source, ['-v', 'ON_ERROR_STOP=1', '-f', fixture]);
      original = await postKinds(server, source);
      dumped = await pgDumpPicture(server, source);
      backup = engineFor(server, source);
      const result = await backup.engine.backup();
      expect(result.warnings).toEqual([]);
    }, 120_000);

    const judge = async (target: string) => {
      expect(await postKinds(server, target)).toEqual(original);
      // pg_dump judges wherever it can read the server.
      if (dumped) expect(await pgDumpPicture(server, target)).toEqual(dumped);
    };

    it('restores each with its options, owner and comment', async () => {
      const target = uniqueName('postkinds_r');
      trackDatabase(server, target);
      await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
      await judge(target);
      // The fixture sets each of them: a comparison of empty lists would prove nothing.
      expect(original.statistics).toHaveLength(2);
      expect(original.publications).toHaveLength(4);
      expect(original.subscriptions).toHaveLength(2);
      expect(original.eventTriggers.map((e) => e.evtenabled).sort()).toEqual(['A', 'D', 'O', 'R']);
      expect(original.defaultPrivileges.length).toBeGreaterThanOrEqual(6);
    }, 120_000);

    it('restores the same with psql alone', async () => {
      const dir = await extractArchive(backup.storage);
      const target = await createDatabase(server, 'postkinds_psql');
      psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
      await judge(target);
    }, 120_000);

    it('restores into an existing database with --clean, over objects of these kinds', async () => {
      const target = await createDatabase(server, 'postkinds_clean');
      psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', fixture]);
      await backup.engine.restore('latest', {
        confirm: true,
        postgres: { targetDatabase: target, clean: true },
      });
      expect(await postKinds(server, target)).toEqual(original);
    }, 120_000);
  },
);
