import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './engine.js';
import { pgDumpPicture } from './pgdump.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './servers.js';

export interface KindsSuite<K extends Record<string, unknown[]>> {
  /** What the suite restores, for its title. */
  title: string;
  /** The fixture: loaded with psql -v ROLE=name for each of `roles`. */
  fixture: string;
  /** psql variables naming the roles the fixture gives objects and privileges to. */
  roles: string[];
  /** Database name prefix. */
  prefix: string;
  /** The kinds as the catalog holds them; every list must be non-empty in the source. */
  kinds: (server: TestServer, database: string) => Promise<K>;
  /** More checks of the source's picture. */
  checkSource?: (kinds: K) => void;
  /**
   * Restore choices that leave none of the fixture's objects out (an excluded schema it does
   * not use): each statement must still be placed in its schema, and the copy be equal.
   */
  filtered?: Record<string, unknown>;
  /** Also restore with --clean into a database that holds the fixture already. */
  overExisting?: boolean;
}

/**
 * Loads a fixture, backs it up (nothing reported as not backed up), restores it through the
 * engine and through psql -f database/restore.psql alone, and compares each copy with the
 * source: the kinds' catalog picture on every server, and pg_dump (--schema-only, and sorted
 * --data-only --inserts) wherever the installed pg_dump can read the server.
 */
export function describeKindsRestore<K extends Record<string, unknown[]>>(suite: KindsSuite<K>) {
  const picture = async (server: TestServer, database: string) => ({
    kinds: await suite.kinds(server, database),
    dump: await pgDumpPicture(server, database),
  });
  describe.each(servers)(`${suite.title} on $name`, (server) => {
    const suffix = randomBytes(3).toString('hex');
    const roles = suite.roles.map((variable) => ({ variable, name: `lb_${variable}_${suffix}` }));
    const databases: string[] = [];
    let backup: ReturnType<typeof engineFor>;
    let original: Awaited<ReturnType<typeof picture>>;

    beforeAll(async () => {
      await server.start();
      for (const r of roles) await sql(server, 'postgres', `CREATE ROLE ${r.name} NOLOGIN`);
      const source = await createDatabase(server, suite.prefix);
      databases.push(source);
      const variables = roles.flatMap((r) => ['-v', `${r.variable}=${r.name}`]);
      psql(server, source, ['-v', 'ON_ERROR_STOP=1', ...variables, '-f', suite.fixture]);
      original = await picture(server, source);
      backup = engineFor(server, source);
      const result = await backup.engine.backup();
      // Nothing reported as not backed up (POSTGRES_UNSUPPORTED): every kind is recreated.
      expect(result.warnings).toEqual([]);
    }, 120_000);

    afterAll(async () => {
      for (const d of databases)
        for (const r of roles) await sql(server, d, `DROP OWNED BY ${r.name}`).catch(() => {});
      for (const r of roles)
        await sql(server, 'postgres', `DROP ROLE IF EXISTS ${r.name}`).catch(() => {});
    });

    it('restores them through the engine', async () => {
      const target = uniqueName(`${suite.prefix}_r`);
      trackDatabase(server, target);
      databases.push(target);
      await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
      const restored = await picture(server, target);
      expect(restored.kinds).toEqual(original.kinds);
      // pg_dump judges wherever it can read the server.
      if (original.dump) expect(restored.dump).toEqual(original.dump);
      // The fixture sets each of them: a comparison of empty lists would prove nothing.
      for (const [kind, rows] of Object.entries(original.kinds))
        expect(rows.length, kind).toBeGreaterThan(0);
      suite.checkSource?.(original.kinds);
    }, 120_000);

    it.runIf(suite.filtered)(
      'restores the same under restore choices',
      async () => {
        const target = uniqueName(`${suite.prefix}_f`);
        trackDatabase(server, target);
        databases.push(target);
        await backup.engine.restore('latest', {
          postgres: { targetDatabase: target, ...suite.filtered },
        });
        expect((await picture(server, target)).kinds).toEqual(original.kinds);
      },
      120_000,
    );

    it.runIf(suite.overExisting)(
      'restores with --clean over the same objects',
      async () => {
        const target = await createDatabase(server, `${suite.prefix}_clean`);
        databases.push(target);
        const variables = roles.flatMap((r) => ['-v', `${r.variable}=${r.name}`]);
        psql(server, target, ['-v', 'ON_ERROR_STOP=1', ...variables, '-f', suite.fixture]);
        await backup.engine.restore('latest', {
          confirm: true,
          postgres: { targetDatabase: target, clean: true },
        });
        expect((await picture(server, target)).kinds).toEqual(original.kinds);
      },
      120_000,
    );

    it("verifies deeply (a scratch restore, its counts equal the backup's)", async () => {
      const verify = await backup.engine.verify('latest', { deep: true });
      expect(verify.problems).toEqual([]);
      expect(verify.ok).toBe(true);
    }, 120_000);

    it('restores the same with psql alone', async () => {
      const dir = await extractArchive(backup.storage);
      const target = await createDatabase(server, `${suite.prefix}_psql`);
      databases.push(target);
      psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
      const restored = await picture(server, target);
      expect(restored.kinds).toEqual(original.kinds);
      if (original.dump) expect(restored.dump).toEqual(original.dump);
    }, 120_000);
  });
}
