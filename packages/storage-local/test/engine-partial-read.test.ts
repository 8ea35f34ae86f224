import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  createEngine,
  type LifeboatEventMap,
  type Manifest,
  type Source,
  type Storage,
} from '@lifeboat/core';
import { countingStorage, rejectionOf } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import {
  fileSource,
  partialTables,
  type TableRestoreOptions,
} from '@lifeboat/test-support/sources';
import { afterEach, describe, expect, it } from 'vitest';

// Random bytes do not compress: the archive is about as big as its data, ~12 MiB.
const BIG = Object.fromEntries(
  Array.from({ length: 6 }, (_, i) => [`data/big${i}.csv`, randomBytes(2 * 1024 * 1024)]),
);
const TABLES = { ...BIG, 'data/small.csv': Buffer.from('id,name\n1,one\n2,two\n') };
const CONFIG = { '.env.production': 'KEY=value\n', 'nginx.conf': 'server {}\n' };

/** A database-like source: `tables: ['small']` restores data/small.csv alone. */
function tableSource() {
  const { source, restored } = fileSource(TABLES, 'database');
  const tables: Source<Record<string, unknown>, TableRestoreOptions> = {
    ...source,
    id: 'tables',
    restoreEntries: (_summary, options) => options.tables?.map((t) => `data/${t}.csv`),
    partialRestore: partialTables,
    async restore(ctx) {
      const wanted = ctx.options.tables?.map((t) => `data/${t}.csv`);
      for await (const entry of ctx.entries) {
        if (wanted && !wanted.includes(entry.relativePath)) continue;
        restored[entry.relativePath] = await buffer(entry.stream);
      }
      return {};
    },
  };
  return { source: tables, restored };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-partial-'));
  dirs.push(dir);
  const storage = countingStorage(localStorage({ dir }));
  const db = tableSource();
  const config = fileSource(CONFIG);
  const engine = createEngine({
    sources: [db.source, config.source],
    storage,
    pruneAfterBackup: false,
  });
  const checks: LifeboatEventMap['restore:checked'][] = [];
  engine.events.on('restore:checked', (e) => checks.push(e));
  const result = await engine.backup();
  storage.reads.bytes.clear();
  storage.reads.gets.length = 0;
  return { dir, storage, engine, checks, result, db, config };
}

const archiveBytesRead = (
  storage: Storage & { reads: { bytes: Map<string, number> } },
  file: string,
) => storage.reads.bytes.get(file) ?? 0;

describe('partial reads: only the gzip members a restore needs', () => {
  it('every entry of the manifest has a location, and the archive stays a plain .tar.gz', async () => {
    const { dir, result } = await setup();
    const listing = execFileSync('tar', ['-tzf', join(dir, result.file)], { encoding: 'utf8' });
    expect(listing).toContain('database/data/small.csv');
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', join(dir, result.file), 'manifest.json'], {
        encoding: 'utf8',
      }),
    ) as Manifest;
    const raw = await readFile(join(dir, result.file));
    for (const entry of manifest.entries) {
      expect(entry.location, entry.path).toBeDefined();
      const at = entry.location!;
      // The member it starts in is a gzip member of its own: gunzip inflates from there.
      expect(raw.subarray(at.member, at.member + 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(at.end).toBeGreaterThan(at.member);
      expect(at.end).toBeLessThanOrEqual(raw.length);
    }
  });

  it('restoring one table reads a small fraction of the archive, the table exact', async () => {
    const { storage, engine, checks, result, db } = await setup();
    await engine.restore(result.id, { tables: { tables: ['small'] } });
    expect(checks.map((c) => c.method)).toEqual(['ranges']);
    expect(db.restored['data/small.csv']).toEqual(TABLES['data/small.csv']);
    expect(Object.keys(db.restored)).toEqual(['data/small.csv']);
    const read = archiveBytesRead(storage, result.file);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(result.bytes * 0.05);
    expect(storage.reads.gets.filter((g) => g.key === result.file).every((g) => g.range)).toBe(
      true,
    );
  });

  it('--only config reads only the config members', async () => {
    const { storage, engine, checks, result, config } = await setup();
    await engine.restore(result.id, { only: 'config' });
    expect(checks.map((c) => c.method)).toEqual(['ranges']);
    expect(config.restored['.env.production']?.toString()).toBe(CONFIG['.env.production']);
    expect(config.restored['nginx.conf']?.toString()).toBe(CONFIG['nginx.conf']);
    expect(archiveBytesRead(storage, result.file)).toBeLessThan(result.bytes * 0.05);
  });

  it('one big table reads about its own size, not the archive', async () => {
    const { storage, engine, result, db } = await setup();
    await engine.restore(result.id, { tables: { tables: ['big3'] } });
    // Buffer.equals: toEqual compares 2 MiB element by element (tens of seconds).
    expect(db.restored['data/big3.csv']?.equals(BIG['data/big3.csv']!)).toBe(true);
    const read = archiveBytesRead(storage, result.file);
    expect(read).toBeGreaterThan(2 * 1024 * 1024);
    expect(read).toBeLessThan(result.bytes * 0.3);
  });

  it('a full restore still reads the whole archive in one pass after the stored sha256', async () => {
    const { storage, engine, checks, result, db } = await setup();
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['index']);
    expect(Object.keys(db.restored)).toHaveLength(7);
    expect(archiveBytesRead(storage, result.file)).toBe(2 * result.bytes);
  });

  it('a changed entry is refused by its sha256 before the source sees its end', async () => {
    const { dir, engine, result, db } = await setup();
    const path = join(dir, result.file);
    const raw = await readFile(path);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', path, 'manifest.json'], { encoding: 'utf8' }),
    ) as Manifest;
    // Re-compress the member holding small.csv with one byte of it changed: gzip's CRC holds,
    // only the manifest's sha256 can tell.
    const at = manifest.entries.find((e) => e.path === 'database/data/small.csv')!.location!;
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const member = gunzipSync(raw.subarray(at.member, at.end));
    const i = member.indexOf('1,one');
    member[i] = '9'.charCodeAt(0);
    const patched = Buffer.concat([
      raw.subarray(0, at.member),
      gzipSync(member),
      raw.subarray(at.end),
    ]);
    await writeFile(path, patched);
    // The index still names the old size: the partial path is not taken on a resized archive.
    const error = await rejectionOf(engine.restore(result.id, { tables: { tables: ['small'] } }));
    expect(['ENTRY_MISMATCH', 'ARCHIVE_CORRUPT']).toContain(error.code);
    expect(db.restored['data/small.csv']).toBeUndefined();
  });

  it('an index whose manifest is not the archive’s own is refused', async () => {
    const { storage, engine, result } = await setup();
    const key = `.lifeboat/index/${result.file}.json`;
    const record = JSON.parse((await buffer(await storage.get(key))).toString());
    const manifest = JSON.parse(record.manifest) as Manifest;
    manifest.entries.find((e) => e.path === 'database/data/small.csv')!.sha256 = 'a'.repeat(64);
    record.manifest = JSON.stringify(manifest);
    const { createHash } = await import('node:crypto');
    record.manifestSha256 = createHash('sha256').update(record.manifest).digest('hex');
    await storage.put(key, Buffer.from(JSON.stringify(record)), { overwrite: true });
    const error = await rejectionOf(engine.restore(result.id, { tables: { tables: ['small'] } }));
    expect(error.code).toBe('ARCHIVE_CORRUPT');
    expect(error.message).toContain('manifest.json');
  });

  it('lists the entries with sizes from the index, without reading the archive', async () => {
    const { storage, engine, result } = await setup();
    const listed = await engine.entries(result.id);
    expect(listed.file).toBe(result.file);
    const small = listed.entries.find((e) => e.path === 'database/data/small.csv');
    expect(small).toMatchObject({ type: 'file', size: TABLES['data/small.csv'].length });
    expect(small?.storedBytes).toBeGreaterThan(0);
    expect(listed.entries.find((e) => e.path === 'database/data/big2.csv')?.size).toBe(
      2 * 1024 * 1024,
    );
    expect(storage.reads.bytes.get(result.file) ?? 0).toBe(0);
    await storage.delete(`.lifeboat/index/${result.file}.json`);
    expect((await rejectionOf(engine.entries(result.id))).code).toBe('NOT_FOUND');
  });

  it('an archive without an index is read whole, as before', async () => {
    const { storage, engine, checks, result, db } = await setup();
    await storage.delete(`.lifeboat/index/${result.file}.json`);
    await engine.restore(result.id, { tables: { tables: ['small'] } });
    expect(checks.map((c) => c.method)).toEqual(['full']);
    expect(db.restored['data/small.csv']).toEqual(TABLES['data/small.csv']);
    expect(archiveBytesRead(storage, result.file)).toBeGreaterThanOrEqual(result.bytes);
  });
});
