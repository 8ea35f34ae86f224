import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, INDEX_PREFIX } from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lifeboat-trust-'));
  dirs.push(d);
  return d;
};

const HOUR = 3600_000;

/**
 * Two real backups in a real folder, then files named like newer archives: a valid archive
 * copied in by another tool under a name from 2099; the same with an index record beside it, as
 * a clock that jumped ten days ahead would leave it; and a copy without index, named a few minutes
 * after the real newest (within the clock skew allowance, so only its missing index tells).
 */
async function storageWithImpostors() {
  const dir = tempDir();
  const files: Record<string, string> = { 'a.txt': 'first backup' };
  const { source, restored } = fileSource(files);
  let t = Date.parse('2026-03-10T02:00:00Z');
  const engine = createEngine({
    sources: [source],
    storage: localStorage({ dir }),
    now: () => new Date(t),
    health: { maxAgeHours: 25, minFreeBytes: 0 },
    retention: { keepLast: 1 },
    pruneAfterBackup: false,
  });
  const first = await engine.backup();
  t += HOUR;
  files['a.txt'] = 'real newest';
  const real = await engine.backup();
  const foreign = 'critical_backup_20990101_000000.tar.gz';
  const jumped = 'critical_backup_20260320_030000.tar.gz';
  const unindexed = 'critical_backup_20260310_030500.tar.gz';
  for (const name of [foreign, jumped, unindexed])
    copyFileSync(join(dir, first.file), join(dir, name));
  copyFileSync(
    join(dir, `${INDEX_PREFIX}${first.file}.json`),
    join(dir, `${INDEX_PREFIX}${jumped}.json`),
  );
  return {
    dir,
    engine,
    restored,
    first,
    real,
    foreign,
    jumped,
    unindexed,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('only archives with a Lifeboat index, named no later than now, count as backups', () => {
  it('latest, random, verify, entries and restore pick the real newest, not a future-named file', async () => {
    const s = await storageWithImpostors();
    const listed = await s.engine.list();
    expect(Object.fromEntries(listed.map((a) => [a.file, a.untrusted?.code ?? 'counted']))).toEqual(
      {
        [s.foreign]: 'ARCHIVE_IN_FUTURE',
        [s.jumped]: 'ARCHIVE_IN_FUTURE',
        [s.unindexed]: 'ARCHIVE_NOT_INDEXED',
        [s.real.file]: 'counted',
        [s.first.file]: 'counted',
      },
    );
    expect(listed.find((a) => a.file === s.jumped)?.indexed).toBe(true);
    expect((await s.engine.verify('latest')).id).toBe(s.real.id);
    expect((await s.engine.entries('latest')).id).toBe(s.real.id);
    for (let i = 0; i < 10; i++)
      expect([s.real.id, s.first.id]).toContain((await s.engine.verify('random')).id);
    const result = await s.engine.restore('latest');
    expect(result.id).toBe(s.real.id);
    expect(s.restored['a.txt']?.toString()).toBe('real newest');
    await s.engine.close();
  });

  it('an untrusted file named by its id is restored, with its warning', async () => {
    const s = await storageWithImpostors();
    const warnings: string[] = [];
    s.engine.events.on('warning', (w) => warnings.push(w.code));
    const result = await s.engine.restore(s.foreign);
    expect(result.id).toBe(s.foreign.replace('.tar.gz', ''));
    expect(s.restored['a.txt']?.toString()).toBe('first backup');
    expect(warnings).toContain('ARCHIVE_IN_FUTURE');
    await s.engine.close();
  });

  it('status counts the real archives and names the others; health warns and ages the real newest', async () => {
    const s = await storageWithImpostors();
    const status = await s.engine.status();
    expect(status.archives.count).toBe(2);
    expect(status.archives.newest).toBe(s.real.id);
    expect(status.archives.untrusted.map((u) => `${u.file} ${u.code}`).sort()).toEqual(
      [
        `${s.foreign} ARCHIVE_IN_FUTURE`,
        `${s.jumped} ARCHIVE_IN_FUTURE`,
        `${s.unindexed} ARCHIVE_NOT_INDEXED`,
      ].sort(),
    );
    const fresh = await s.engine.health();
    const check = (report: typeof fresh, name: string) =>
      report.checks.find((c) => c.name === name);
    expect(check(fresh, 'last-backup')).toMatchObject({
      status: 'ok',
      details: { lastSuccessId: s.real.id },
    });
    expect(check(fresh, 'archive-names')).toMatchObject({
      status: 'warning',
      details: { code: 'ARCHIVE_IN_FUTURE', files: [s.foreign, s.jumped] },
    });
    expect(fresh.status).toBe('WARNING');
    // A day and more later, with no new backup: the files named in the future hide nothing.
    s.advance(26 * HOUR);
    const late = await s.engine.health();
    expect(check(late, 'last-backup')).toMatchObject({
      status: 'critical',
      details: { lastSuccessId: s.real.id, ageHours: 26 },
    });
    expect(late.status).toBe('CRITICAL');
    await s.engine.close();
  });

  it('retention keeps the real archives and never deletes a file it does not count', async () => {
    const s = await storageWithImpostors();
    const result = await s.engine.prune();
    // keepLast 1: the real newest stays, the first goes; the others are not ours to judge.
    expect(result.keep.map((k) => k.id)).toEqual([s.real.id]);
    expect(result.deleted).toEqual([s.first.file]);
    expect(result.untrusted.map((u) => u.file).sort()).toEqual(
      [s.foreign, s.jumped, s.unindexed].sort(),
    );
    const left = readdirSync(s.dir).filter((n) => n.endsWith('.tar.gz'));
    expect(left.sort()).toEqual([s.real.file, s.foreign, s.jumped, s.unindexed].sort());
    // The counted archive's index went with it; the others' stay.
    expect(existsSync(join(s.dir, `${INDEX_PREFIX}${s.first.file}.json`))).toBe(false);
    expect(existsSync(join(s.dir, `${INDEX_PREFIX}${s.jumped}.json`))).toBe(true);
    await s.engine.close();
  });
});
