import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  ageCipher,
  createEngine,
  generateAgeIdentity,
  type Manifest,
  type Source,
} from '@lifeboat/core';
import { countingStorage, rejectionOf } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import { alterMembers } from '@lifeboat/test-support/archive-edit';
import {
  fileSource,
  partialTables,
  type TableRestoreOptions,
} from '@lifeboat/test-support/sources';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// Random bytes do not compress: the archive is about as big as its data, ~12 MiB.
const TABLES = {
  ...Object.fromEntries(
    Array.from({ length: 6 }, (_, i) => [`data/big${i}.csv`, randomBytes(2 * 1024 * 1024)]),
  ),
  'data/small.csv': Buffer.from('id,name\n1,one\n2,two\n'),
};
const CONFIG = { '.env.production': 'KEY=value\n', 'nginx.conf': 'server {}\n' };

let keys: { identity: string; recipient: string };
beforeAll(async () => {
  keys = await generateAgeIdentity();
});

/** A database-like source: `tables: ['small']` chooses data/small.csv alone. */
function tableSource(): Source<Record<string, unknown>, TableRestoreOptions> {
  return {
    ...fileSource(TABLES, 'database').source,
    id: 'tables',
    restoreEntries: (_summary, options) => options.tables?.map((t) => `data/${t}.csv`),
    partialRestore: partialTables,
  };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setup(encrypted = false) {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-verify-chosen-'));
  dirs.push(dir);
  const storage = countingStorage(localStorage({ dir }));
  const engine = createEngine({
    sources: [tableSource(), fileSource(CONFIG).source],
    storage,
    pruneAfterBackup: false,
    ...(encrypted
      ? { cipher: ageCipher({ recipients: [keys.recipient], identities: [keys.identity] }) }
      : {}),
  });
  const result = await engine.backup();
  storage.reads.bytes.clear();
  storage.reads.gets.length = 0;
  const path = join(dir, result.file);
  /** Changes one byte of an entry, re-compressing its members into their old size. */
  const alter = async (entry: string) => {
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', path, 'manifest.json'], { encoding: 'utf8' }),
    ) as Manifest;
    const at = manifest.entries.find((e) => e.path === entry)!.location!;
    const raw = await readFile(path);
    await writeFile(
      path,
      alterMembers(raw, { start: at.member, end: at.end }, (inflated) => {
        const i = at.inner + 512 + 9; // past the tar header, into the file's bytes
        inflated[i]! ^= 0x01;
      }),
    );
  };
  const read = () => storage.reads.bytes.get(result.file) ?? 0;
  return { dir, storage, engine, result, path, alter, read };
}

describe('verify of chosen entries: only the members holding them are read', () => {
  it('one table: ranges, a small fraction of the archive, the entry named; not recorded', async () => {
    const { storage, engine, result, read } = await setup();
    const started: unknown[] = [];
    engine.events.on('verify:started', (e) => started.push(e));
    const v = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(v.ok).toBe(true);
    expect(v.chosen).toMatchObject({ method: 'ranges', entries: ['database/data/small.csv'] });
    expect(v.entries).toBe(1);
    expect(v.bytes).toBe(TABLES['data/small.csv'].length);
    expect(read()).toBeGreaterThan(0);
    expect(read()).toBeLessThan(result.bytes * 0.05);
    expect(v.chosen!.storedBytesRead).toBe(read());
    expect(v.chosen!.storedBytes).toBe(result.bytes);
    expect(storage.reads.gets.filter((g) => g.key === result.file).every((g) => g.range)).toBe(
      true,
    );
    expect(started).toEqual([{ id: result.id, deep: false, chosen: true }]);
    // Not a verify of the archive: the run history holds none, status says none.
    expect((await engine.history()).filter((r) => r.kind === 'verify')).toEqual([]);
    expect((await engine.status()).lastVerify).toBeUndefined();
    await engine.verify(result.id);
    expect((await engine.status()).lastVerify).toMatchObject({ id: result.id, ok: true });
  });

  it('--only config reads only the config members and checks each config entry', async () => {
    const { engine, result, read } = await setup();
    const v = await engine.verify(result.id, { only: 'config' });
    expect(v.ok).toBe(true);
    expect(v.chosen?.method).toBe('ranges');
    expect(v.chosen?.entries.sort()).toEqual(['config/.env.production', 'config/nginx.conf']);
    expect(read()).toBeLessThan(result.bytes * 0.05);
  });

  it('an altered byte in a chosen entry fails, naming it; one elsewhere is not seen', async () => {
    const { engine, result, alter } = await setup();
    await alter('database/data/big3.csv');
    const bad = await engine.verify(result.id, { tables: { tables: ['big3'] } });
    expect(bad.ok).toBe(false);
    expect(bad.chosen?.method).toBe('ranges');
    expect(bad.problems).toEqual([
      expect.objectContaining({ code: 'ENTRY_MISMATCH', path: 'database/data/big3.csv' }),
    ]);
    const other = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(other.ok).toBe(true);
    expect(other.chosen?.entries).toEqual(['database/data/small.csv']);
    // The whole-archive verify does see it: the byte was altered, the archive is the same size.
    const whole = await engine.verify(result.id);
    expect(whole.ok).toBe(false);
    expect(whole.problems.map((p) => p.path)).toContain('database/data/big3.csv');
  });

  it("an index whose manifest is not the archive's own is not trusted: a problem, never a pass", async () => {
    const { storage, engine, result } = await setup();
    const key = `.lifeboat/index/${result.file}.json`;
    const record = JSON.parse((await buffer(await storage.get(key))).toString());
    const manifest = JSON.parse(record.manifest) as Manifest;
    // The manifest claims other bytes for small.csv, and the index's hash is made to match it.
    manifest.entries.find((e) => e.path === 'database/data/small.csv')!.sha256 = 'a'.repeat(64);
    record.manifest = JSON.stringify(manifest);
    record.manifestSha256 = createHash('sha256').update(record.manifest).digest('hex');
    await storage.put(key, Buffer.from(JSON.stringify(record)), { overwrite: true });
    const v = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ code: 'ARCHIVE_CORRUPT', path: 'manifest.json' });
    expect(v.chosen?.entries).toEqual([]);
    expect(v.chosen?.storedBytesRead).toBeGreaterThan(0);
  });

  it('without an index the archive is read whole, every entry checked, the chosen ones reported', async () => {
    const { storage, engine, result, read, alter } = await setup();
    await storage.delete(`.lifeboat/index/${result.file}.json`);
    const v = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(v.ok).toBe(true);
    expect(v.chosen).toMatchObject({ method: 'full', entries: ['database/data/small.csv'] });
    expect(read()).toBeGreaterThanOrEqual(result.bytes);
    // Read whole, the altered entry elsewhere is found too.
    await alter('database/data/big1.csv');
    const bad = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(bad.ok).toBe(false);
    expect(bad.problems.map((p) => p.path)).toContain('database/data/big1.csv');
  });

  it('a table matching nothing and --deep with a choice are errors, not verifies', async () => {
    const { engine, result } = await setup();
    const none = await rejectionOf(engine.verify(result.id, { only: 'nothing' }));
    expect(none.code).toBe('NOT_FOUND');
    const deep = await rejectionOf(
      engine.verify(result.id, { deep: true, tables: { tables: ['small'] } }),
    );
    expect(deep.code).toBe('CONFIG_INVALID');
    expect(deep.message).toContain('--deep');
    expect((await engine.history()).filter((r) => r.kind === 'verify')).toEqual([]);
  });

  it('an age-encrypted archive: only the chunks covering the chosen members are read', async () => {
    const { engine, result, read, dir } = await setup(true);
    expect(result.file.endsWith('.age')).toBe(true);
    const v = await engine.verify(result.id, { tables: { tables: ['small'] } });
    expect(v.ok).toBe(true);
    expect(v.chosen?.method).toBe('ranges');
    expect(read()).toBeGreaterThan(0);
    expect(read()).toBeLessThan(result.bytes * 0.05);
    expect(v.chosen!.storedBytesRead).toBe(read());
    // One altered ciphertext byte inside big3's chunks: its verify fails, small's does not read it.
    const raw = await readFile(join(dir, result.file));
    const plain = await buffer(
      ageCipher({ identities: [keys.identity] }).decrypt(Readable.from([raw])),
    );
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', '-', 'manifest.json'], { input: plain, encoding: 'utf8' }),
    ) as Manifest;
    const at = manifest.entries.find((e) => e.path === 'database/data/big3.csv')!.location!;
    const payload = raw.indexOf('\n', raw.indexOf('\n--- ') + 1) + 1 + 16;
    const chunk = Math.floor((at.member + at.end) / 2 / (64 * 1024));
    raw[payload + chunk * (64 * 1024 + 16) + 40]! ^= 0x04;
    await writeFile(join(dir, result.file), raw);
    const bad = await engine.verify(result.id, { tables: { tables: ['big3'] } });
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]?.code).toBe('DECRYPTION_FAILED');
    expect((await engine.verify(result.id, { tables: { tables: ['small'] } })).ok).toBe(true);
  });
});
