import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createEngine, type Source } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Real file systems that fail: a tmpfs mounted read-only, and a 3 MiB tmpfs that fills up.
 * Mounting needs root (the CI sandbox is); elsewhere these tests are skipped, saying why.
 */
const parent = await fs.mkdtemp(join(tmpdir(), 'lifeboat-fs-faults-'));
const mounted: string[] = [];
function mount(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push(dir);
    return true;
  } catch {
    return false;
  }
}
const probe = join(parent, 'probe');
await fs.mkdir(probe);
const canMount = mount(probe, 'size=1m');
if (!canMount) {
  console.warn(
    'reliability-fs: skipped: cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN); the read-only and full-disk tests did not run',
  );
}
afterAll(async () => {
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
  await fs.rm(parent, { recursive: true, force: true });
});

const filesSource = (files: Record<string, Buffer>): Source => ({
  id: 'files',
  section: 'config',
  describe: () => 'files',
  async connect() {},
  async close() {},
  async backup(ctx) {
    for (const [path, data] of Object.entries(files)) {
      await ctx.emit({ path, type: 'file', size: data.length, body: () => Readable.from([data]) });
    }
    return { files: Object.keys(files) };
  },
  async restore() {
    return {};
  },
});

describe.skipIf(!canMount)('a disk that fills up (3 MiB tmpfs)', () => {
  it('fails with STORAGE_FULL, keeps the earlier archive intact, leaves no partial file', async () => {
    const dir = join(parent, 'small');
    await fs.mkdir(dir);
    expect(mount(dir, 'size=3m,mode=0700')).toBe(true);
    const storage = localStorage({ dir });
    const small = createEngine({
      sources: [filesSource({ 'a.txt': Buffer.from('earlier archive\n') })],
      storage,
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    const earlier = await small.backup();
    const earlierBytes = await fs.readFile(join(dir, earlier.file));

    // 6 MiB of incompressible data cannot fit in 3 MiB.
    const big = createEngine({
      sources: [filesSource({ 'big.bin': randomBytes(6 * 1024 * 1024) })],
      storage: localStorage({ dir }),
      compressionLevel: 1,
    });
    const error = await rejectionOf(big.backup());
    expect(error.code).toBe('STORAGE_FULL');
    expect(error.message).toMatch(/disk is full/);
    expect(error.hint).toMatch(/Free space|retention/);

    const names = await fs.readdir(dir);
    expect(names.filter((n) => n.startsWith('.lifeboat-tmp.'))).toEqual([]);
    expect(names.filter((n) => n.includes('.tar.gz'))).toEqual([earlier.file]);
    expect(await fs.readFile(join(dir, earlier.file))).toEqual(earlierBytes);
    // The failure is in the history (there is room for the record once the partial file is gone).
    const [last] = await big.history();
    expect(last).toMatchObject({ kind: 'backup', ok: false, error: { code: 'STORAGE_FULL' } });
    expect((await big.verify(earlier.id)).ok).toBe(true);
    // And the lock was released: a small backup works again.
    await expect(small.backup()).resolves.toMatchObject({
      file: expect.stringMatching(/\.tar\.gz$/),
    });
  });
});

describe.skipIf(!canMount)('a read-only folder (tmpfs mounted ro)', () => {
  it('refuses to back up with PERMISSION_DENIED naming the folder; archives there stay readable', async () => {
    const dir = join(parent, 'ro');
    await fs.mkdir(dir);
    expect(mount(dir, 'size=8m,mode=0700')).toBe(true);
    const writer = createEngine({
      sources: [filesSource({ 'a.txt': Buffer.from('kept\n') })],
      storage: localStorage({ dir }),
    });
    const kept = await writer.backup();
    execFileSync('mount', ['-o', 'remount,ro', dir]);

    const warnings: string[] = [];
    const engine = createEngine({
      sources: [filesSource({ 'a.txt': Buffer.from('new\n') })],
      storage: localStorage({ dir, onWarning: (code) => warnings.push(code) }),
    });
    const error = await rejectionOf(engine.backup());
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toMatch(/read-only file system/);
    expect(error.message).toContain(dir);
    expect(warnings).toContain('STORAGE_READ_ONLY');
    expect((await fs.readdir(dir)).filter((n) => n.includes('.tar.gz'))).toEqual([kept.file]);
    // A read-only backup volume (a mounted snapshot, a disaster) can still be listed and verified.
    expect((await engine.list()).map((a) => a.file)).toEqual([kept.file]);
    expect((await engine.verify(kept.id)).ok).toBe(true);
    const health = await engine.health();
    expect(health.checks.find((c) => c.name === 'storage')?.status).toBe('critical');
  });
});

describe('a source that fails before the storage has opened its file', () => {
  it('fails with the source error, leaves nothing, and crashes nothing (no unhandled error)', async () => {
    const dir = join(parent, 'early');
    const failing: Source = {
      ...filesSource({}),
      async backup() {
        throw Object.assign(new Error('the source broke at once'), { code: 'EBROKEN' });
      },
    };
    const engine = createEngine({ sources: [failing], storage: localStorage({ dir }) });
    const error = await rejectionOf(engine.backup());
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('the source broke at once');
    await new Promise((r) => setTimeout(r, 100));
    expect((await fs.readdir(dir)).filter((n) => n !== '.lifeboat')).toEqual([]);
    expect(await engine.list()).toEqual([]);
  });
});
