import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { isLifeboatError, type memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql } from './support/servers.js';

const exists = async (server: (typeof servers)[number], db: string, name: string) =>
  (await sql<{ t: string | null }>(server, db, 'SELECT to_regclass($1)::text AS t', [name]))[0]!
    .t !== null;
const count = async (server: (typeof servers)[number], db: string, table: string) =>
  (await sql<{ n: number }>(server, db, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

/**
 * Rewrites the manifest the archive's index vouches for (and the index's own hash of it), as
 * someone with write access to the storage could: a restore then trusts it.
 */
async function tamperManifest(
  storage: ReturnType<typeof memoryStorage>,
  change: (manifest: {
    sources: { summary: { tables: { name: string; columns: { type: string }[] }[] } }[];
  }) => void,
) {
  const [key] = (await storage.list('.lifeboat/index/')).map((o) => o.key);
  const record = JSON.parse((await buffer(await storage.get(key!))).toString());
  const manifest = JSON.parse(record.manifest);
  change(manifest);
  record.manifest = JSON.stringify(manifest);
  record.manifestSha256 = createHash('sha256').update(record.manifest).digest('hex');
  await storage.put(key!, Buffer.from(JSON.stringify(record)), { overwrite: true });
}

describe.each(servers)('side-by-side restore on $name', (server) => {
  // 62 and 63 bytes of UTF-8: two-byte letters.
  const name62 = 'é'.repeat(31);
  const name63 = `${'é'.repeat(31)}x`;
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'side');
    await sql(
      server,
      db,
      `CREATE TABLE "${name62}" (id int PRIMARY KEY); INSERT INTO "${name62}" SELECT generate_series(1, 10);
       CREATE TABLE "${name63}" (id int PRIMARY KEY); INSERT INTO "${name63}" SELECT generate_series(1, 10);
       CREATE TABLE users (id int PRIMARY KEY, name varchar(20), amount numeric(10,2), flags bit(3));
       INSERT INTO users VALUES (1, 'ada', 1.5, B'101'), (2, 'bob', 2.25, B'010');
       CREATE TABLE users_old (id int); INSERT INTO users_old VALUES (42);
       CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);`,
    );
  });

  it('refuses a suffix the server would cut back to the live table name, and never drops it', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    // New rows since the backup: a dropped live table would lose them.
    await sql(
      server,
      db,
      `INSERT INTO "${name62}" VALUES (11); INSERT INTO "${name63}" VALUES (11)`,
    );
    for (const [table, suffix] of [
      [name63, '_restored'],
      [name62, 'é'],
    ] as const) {
      const error = await rejectionOf(
        engine.restore('latest', {
          postgres: { inPlace: true, tables: [table], asSuffix: suffix, clean: true },
        }),
      );
      expect(isLifeboatError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain(`${table}${suffix}`);
      expect((error as Error).message).toMatch(/63 bytes/);
      expect(await count(server, db, `"${table}"`)).toBe(11);
    }
  });

  it('refuses a side table name that is a table of the backed-up database, even with --clean', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    const error = await rejectionOf(
      engine.restore('latest', {
        postgres: { inPlace: true, tables: ['users'], asSuffix: '_old', clean: true },
      }),
    );
    expect(isLifeboatError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('public.users_old');
    expect(await count(server, db, 'users_old')).toBe(1);
  });

  it('creates the side table with the types the server checked, keeping their modifiers', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    await engine.restore('latest', {
      postgres: { inPlace: true, tables: ['users'], asSuffix: '_side' },
    });
    const types = await sql<{ t: string }>(
      server,
      db,
      `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
       WHERE attrelid = 'public.users_side'::regclass AND attnum > 0 ORDER BY attnum`,
    );
    expect(types.map((t) => t.t)).toEqual([
      'integer',
      'character varying(20)',
      'numeric(10,2)',
      'bit(3)',
    ]);
    expect(await count(server, db, 'users_side')).toBe(2);
  });

  it('refuses a manifest whose column type is SQL, and runs none of it', async () => {
    for (const type of [
      'text); DROP TABLE public.victim; CREATE TABLE public.pwned (x text',
      'text, pwned text',
      "text DEFAULT (pg_catalog.pg_sleep(0)::text || 'x')",
      'text /* */',
    ]) {
      const { engine, storage } = engineFor(server, db);
      await engine.backup();
      await tamperManifest(storage, (m) => {
        const users = m.sources[0]!.summary.tables.find((t) => t.name === 'public.users')!;
        users.columns[1]!.type = type;
      });
      const error = await rejectionOf(
        engine.restore('latest', {
          postgres: { inPlace: true, tables: ['users'], asSuffix: '_tampered' },
        }),
      );
      expect(isLifeboatError(error, 'MANIFEST_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/column name of public\.users the type/);
      expect(await exists(server, db, 'public.victim')).toBe(true);
      expect(await exists(server, db, 'public.pwned')).toBe(false);
      expect(await exists(server, db, 'public.users_tampered')).toBe(false);
    }
  });
});
