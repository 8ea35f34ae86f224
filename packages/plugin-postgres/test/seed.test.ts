import { beforeAll, describe, expect, it } from 'vitest';
import { describeDatabase } from './support/compare.js';
import { engineFor } from './support/engine.js';
import { createDatabase, psql, servers, trackDatabase, uniqueName } from './support/servers.js';

const SEED = '/work/shared/datasets/smart-ai-hub.sql';

describe.each(servers)('seed dataset smart-ai-hub (scale=1) on $name', (server) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'seed');
    psql(server, db, ['-v', 'scale=1', '-v', 'ON_ERROR_STOP=1', '-f', SEED]);
  }, 180_000);

  it('round-trips: backup, deep verify, restore into a new database, identical', async () => {
    const original = await describeDatabase(server, db);
    const { engine } = engineFor(server, db, { jobs: 2 });
    const began = performance.now();
    const result = await engine.backup();
    const backupMs = performance.now() - began;
    expect(Object.fromEntries(result.tables.map((t) => [t.name, t.rows]))).toMatchObject({
      'public.credit_transactions': 200_000,
      'public.messages': 60_000,
      'public.users': 5000,
      'public.organizations': 200,
    });
    const verify = await engine.verify('latest', { deep: true });
    expect(verify.problems).toEqual([]);
    const target = uniqueName('seed_restored');
    trackDatabase(server, target);
    const restoreBegan = performance.now();
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    const restoreMs = performance.now() - restoreBegan;
    const restored = await describeDatabase(server, target);
    expect(restored.data).toEqual(original.data);
    expect(restored.catalog).toEqual(original.catalog);
    const rows = result.tables.reduce((n, t) => n + t.rows, 0);
    console.log(
      `[seed ${server.name}] ${rows} rows; backup ${Math.round(backupMs)} ms, archive ${(result.bytes / 1e6).toFixed(1)} MB; ` +
        `deep verify ${verify.durationMs} ms; restore ${Math.round(restoreMs)} ms`,
    );
  }, 180_000);
});
