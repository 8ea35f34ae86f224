import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createEngine, LifeboatError, memoryStorage } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import {
  engineWith,
  fileSource,
  manifestFor,
  type RawEntry,
  rawArchive,
  storeRaw,
} from './helpers.js';

const FILE = 'critical_backup_20260101_000000.tar.gz';

async function problemsOf(bytes: Buffer) {
  const { engine, storage, restored } = engineWith({});
  await storeRaw(storage, FILE, bytes);
  const result = await engine.verify(FILE);
  const restoreError = await engine.restore(FILE).then(
    () => undefined,
    (e: unknown) => e as LifeboatError,
  );
  return { result, restoreError, restored };
}

async function expectRefused(bytes: Buffer, code: string) {
  const { result, restoreError, restored } = await problemsOf(bytes);
  expect(result.ok).toBe(false);
  expect(result.problems.map((p) => p.code)).toContain(code);
  expect(restoreError).toBeInstanceOf(LifeboatError);
  expect(restoreError!.code).toBe(code);
  // Refused before anything was handed to a source.
  expect(Object.keys(restored)).toEqual([]);
}

const good: RawEntry[] = [
  { name: 'config/a.txt', body: 'alpha\n' },
  { name: 'config/b.txt', body: 'beta\n' },
];
const withManifest = (entries: RawEntry[], overrides = {}): RawEntry[] => [
  ...entries,
  { name: 'manifest.json', body: manifestFor(entries, overrides) },
  { name: 'BACKUP_INFO.txt', body: 'info' },
];

describe('archive round trip', () => {
  it('backs up, lists, verifies and restores the same bytes', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const { engine, restored } = engineWith({ 'a.txt': 'alpha\n', 'big.bin': big, empty: '' });
    const events: string[] = [];
    engine.events.on('backup:started', () => events.push('started'));
    engine.events.on('entry:done', (e) => events.push(e.path));
    engine.events.on('backup:succeeded', () => events.push('succeeded'));
    const result = await engine.backup();
    expect(events.slice(0, 2)).toEqual(['started', 'config/a.txt']);
    const list = await engine.list();
    expect(list.map((a) => a.id)).toEqual([result.id]);
    expect(list[0]!.bytes).toBe(result.bytes);
    const verify = await engine.verify('latest');
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    await engine.restore(`${result.id}.tar.gz`);
    expect(restored['a.txt']!.toString()).toBe('alpha\n');
    expect(restored['big.bin']!.equals(big)).toBe(true);
    expect(restored.empty!.length).toBe(0);
  });

  it('gives two backups in the same second different names', async () => {
    const now = () => new Date('2026-03-04T05:06:07.123Z');
    const storage = memoryStorage();
    const engine = createEngine({ sources: [fileSource({ a: 'x' }).source], storage, now });
    const first = await engine.backup();
    const second = await engine.backup();
    expect(first.id).toBe('critical_backup_20260304_050607');
    expect(second.id).toBe('critical_backup_20260304_050607_2');
    expect((await engine.list()).map((a) => a.id)).toEqual([second.id, first.id]);
  });

  it('uses the configured prefix and rejects an unsafe one', () => {
    expect(() =>
      createEngine({ sources: [fileSource({}).source], storage: memoryStorage(), prefix: '../x' }),
    ).toThrow(/prefix/);
  });

  it('writes an archive that tar, gzip and sha256sum read on their own', async () => {
    const storage = memoryStorage();
    const { engine } = engineWith({ 'a.txt': 'alpha\n', 'b/c.txt': 'gamma\n' }, storage);
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-tar-'));
    try {
      writeFileSync(join(dir, file), Buffer.concat(chunks));
      execFileSync('gzip', ['-t', join(dir, file)]);
      const listing = execFileSync('tar', ['-tzf', join(dir, file)])
        .toString()
        .split('\n');
      expect(listing).toEqual(
        expect.arrayContaining([
          'config/a.txt',
          'config/b/c.txt',
          'manifest.json',
          'BACKUP_INFO.txt',
          'SHA256SUMS',
        ]),
      );
      execFileSync('tar', ['-xzf', join(dir, file), '-C', dir]);
      const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }).toString();
      expect(check).toContain('config/a.txt: OK');
      const manifest = JSON.parse(execFileSync('cat', [join(dir, 'manifest.json')]).toString());
      expect(manifest.entries.find((e: { path: string }) => e.path === 'config/a.txt').size).toBe(
        6,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('indexed gzip members', () => {
  it('marks every member with its size, stays plain gzip, and inflates back in parallel', async () => {
    const big = Buffer.from(
      Array.from({ length: 300_000 }, (_, i) => `row ${i},${i * 7}\n`).join(''),
    );
    const { engine, storage, restored } = engineWith({ 'big.csv': big });
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    // First member: gzip magic, FEXTRA, subfield "LB" with the member's size.
    expect([...bytes.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 4]);
    expect(bytes.subarray(12, 14).toString()).toBe('LB');
    const first = bytes.readUInt32LE(16);
    expect([...bytes.subarray(first, first + 4)]).toEqual([0x1f, 0x8b, 8, 4]);
    expect(gunzipSync(bytes).includes(Buffer.from('row 299999,'))).toBe(true);
    await engine.restore(file);
    expect(restored['big.csv']!.equals(big)).toBe(true);
  });

  it('reports a cut between or inside members as truncated', async () => {
    const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `row ${i}\n`).join(''));
    const { engine, storage } = engineWith({ 'big.csv': big });
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    const first = bytes.readUInt32LE(16);
    for (const cut of [first, first + 30, bytes.length - 5]) {
      const { result } = await problemsOf(bytes.subarray(0, cut));
      expect(result.problems[0]!.code).toBe('ARCHIVE_TRUNCATED');
    }
  });
});

describe('bad archives are refused with their own code', () => {
  it('a flipped byte in the middle', async () => {
    const { engine, storage } = engineWith({
      'a.bin': Buffer.alloc(2 * 1024 * 1024, 1),
      'b.txt': 'x'.repeat(100000),
    });
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const { result, restoreError } = await problemsOf(bytes);
    expect(result.ok).toBe(false);
    expect(['ARCHIVE_CORRUPT', 'ENTRY_MISMATCH']).toContain(result.problems[0]!.code);
    expect(['ARCHIVE_CORRUPT', 'ENTRY_MISMATCH']).toContain(restoreError!.code);
  });

  it('a truncated file', async () => {
    const bytes = await rawArchive(withManifest(good));
    await expectRefused(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'ARCHIVE_TRUNCATED');
  });

  it('a file that is not gzip', async () => {
    await expectRefused(
      Buffer.from('this is plain text, not an archive\n'.repeat(20)),
      'ARCHIVE_NOT_GZIP',
    );
  });

  it('an empty file', async () => {
    await expectRefused(Buffer.alloc(0), 'ARCHIVE_TRUNCATED');
  });

  it('an archive without a manifest', async () => {
    await expectRefused(await rawArchive(good), 'ARCHIVE_NO_MANIFEST');
  });

  it('a manifest that is not JSON', async () => {
    await expectRefused(
      await rawArchive([...good, { name: 'manifest.json', body: '{oops' }]),
      'MANIFEST_INVALID',
    );
  });

  it('a manifest with a wrong checksum', async () => {
    const manifest = JSON.parse(manifestFor(good));
    manifest.entries[0].sha256 = '0'.repeat(64);
    await expectRefused(
      await rawArchive([
        ...good,
        { name: 'manifest.json', body: JSON.stringify(manifest) },
        { name: 'BACKUP_INFO.txt', body: 'i' },
      ]),
      'ENTRY_MISMATCH',
    );
  });

  it('an archive from a newer format version', async () => {
    await expectRefused(
      await rawArchive(withManifest(good, { formatVersion: 99 })),
      'FORMAT_UNSUPPORTED',
    );
  });

  it('an entry the manifest does not list, and one it lists but is missing', async () => {
    const extra = [
      ...good,
      { name: 'manifest.json', body: manifestFor([good[0]!]) },
      { name: 'BACKUP_INFO.txt', body: 'i' },
    ];
    await expectRefused(await rawArchive(extra), 'ENTRY_UNEXPECTED');
    const missing = [
      good[0]!,
      { name: 'manifest.json', body: manifestFor(good) },
      { name: 'BACKUP_INFO.txt', body: 'i' },
    ];
    await expectRefused(await rawArchive(missing), 'ENTRY_MISSING');
  });

  it.each([
    ['a parent path', 'config/../../etc/passwd'],
    ['an absolute path', '/etc/passwd'],
    ['a dot segment', 'config/./x'],
  ])('%s', async (_label, name) => {
    await expectRefused(
      await rawArchive(withManifest([...good, { name, body: 'evil' }])),
      'UNSAFE_PATH',
    );
  });

  it('a link that points out of its folder, and a hard link', async () => {
    const link: RawEntry = {
      name: 'config/ssl/key.pem',
      type: 'symlink',
      linkname: '../../../etc/shadow',
    };
    await expectRefused(await rawArchive(withManifest([...good, link])), 'UNSAFE_PATH');
    const abs: RawEntry = { name: 'config/ssl/key.pem', type: 'symlink', linkname: '/etc/shadow' };
    await expectRefused(await rawArchive(withManifest([...good, abs])), 'UNSAFE_PATH');
    const hard: RawEntry = { name: 'config/h', type: 'link', linkname: 'config/a.txt' };
    await expectRefused(await rawArchive(withManifest([...good, hard])), 'UNSAFE_PATH');
  });

  it('a tar with the same name twice', async () => {
    await expectRefused(
      await rawArchive(withManifest([...good, { name: 'config/a.txt', body: 'again' }])),
      'ENTRY_DUPLICATE',
    );
  });

  it('a decompression bomb', async () => {
    const { engine, storage } = engineWith({});
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const bomb = await rawArchive([{ name: 'config/zeros', body: zeros }]);
    expect(bomb.length).toBeLessThan(zeros.length / 500);
    await storeRaw(storage, FILE, bomb);
    const { checkArchive } = await import('@lifeboat/core');
    const check = await checkArchive(Readable.from([bomb]), {
      maxExpansionRatio: 100,
      expansionFloorBytes: 1024 * 1024,
    });
    expect(check.problems.map((p) => p.code)).toEqual(['ARCHIVE_TOO_LARGE']);
    // With defaults the same archive is read fully (the floor is 1 GiB).
    expect((await engine.verify(FILE)).problems.map((p) => p.code)).toEqual([
      'ARCHIVE_NO_MANIFEST',
    ]);
  });

  it('garbage appended after a valid archive', async () => {
    const valid = await rawArchive(withManifest(good));
    const bytes = Buffer.concat([valid, gzipSync(Buffer.from('garbage that is not tar'))]);
    // Trailing data is not silently ignored: something appended to an archive is suspect.
    const { result, restoreError, restored } = await problemsOf(bytes);
    expect(result.ok).toBe(false);
    expect(restoreError).toBeInstanceOf(LifeboatError);
    expect(Object.keys(restored)).toEqual([]);
  });
});
