import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  ageCipher,
  createEngine,
  generateAgeIdentity,
  type LifeboatEventMap,
  type Manifest,
  type Source,
} from '@lifeboat/core';
import { countingStorage, rejectionOf } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
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
const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

let keys: { identity: string; recipient: string };
let other: { identity: string; recipient: string };
beforeAll(async () => {
  keys = await generateAgeIdentity();
  other = await generateAgeIdentity();
});

function tableSource() {
  const restored: Record<string, Buffer> = {};
  const tables: Source<Record<string, unknown>, TableRestoreOptions> = {
    ...fileSource(TABLES, 'database').source,
    id: 'tables',
    restoreEntries: (_summary, options) => options.tables?.map((t) => `data/${t}.csv`),
    partialRestore: partialTables,
    async restore(ctx) {
      for await (const entry of ctx.entries)
        restored[entry.relativePath] = await buffer(entry.stream);
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
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-partial-age-'));
  dirs.push(dir);
  const storage = countingStorage(localStorage({ dir }));
  const db = tableSource();
  const config = fileSource(CONFIG);
  const engine = (identity: string) =>
    createEngine({
      sources: [db.source, config.source],
      storage,
      cipher: ageCipher({ recipients: [keys.recipient], identities: [identity] }),
      pruneAfterBackup: false,
    });
  const main = engine(keys.identity);
  const checks: LifeboatEventMap['restore:checked'][] = [];
  main.events.on('restore:checked', (e) => checks.push(e));
  const result = await main.backup();
  storage.reads.bytes.clear();
  storage.reads.gets.length = 0;
  return { dir, storage, engine, main, checks, result, db, config };
}

/** The archive's plaintext (.tar.gz), its manifest, and where its age payload starts. */
async function plaintextOf(dir: string, file: string) {
  const raw = await readFile(join(dir, file));
  const plain = await buffer(
    ageCipher({ identities: [keys.identity] }).decrypt(Readable.from([raw])),
  );
  const manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', '-', 'manifest.json'], { input: plain, encoding: 'utf8' }),
  ) as Manifest;
  const payload = raw.indexOf('\n', raw.indexOf('\n--- ') + 1) + 1 + 16;
  return { raw, plain, manifest, payload };
}

describe('partial reads of an age-encrypted archive: only the chunks covering the members', () => {
  it('restoring one table reads a small fraction of the archive by ranges, the table exact', async () => {
    const { storage, main, checks, result, db } = await setup();
    expect(result.file.endsWith('.age')).toBe(true);
    await main.restore(result.id, { tables: { tables: ['small'] } });
    expect(checks.map((c) => c.method)).toEqual(['ranges']);
    expect(Object.keys(db.restored)).toEqual(['data/small.csv']);
    expect(db.restored['data/small.csv']).toEqual(TABLES['data/small.csv']);
    const read = storage.reads.bytes.get(result.file) ?? 0;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(result.bytes * 0.05);
    const gets = storage.reads.gets.filter((g) => g.key === result.file);
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((g) => g.range)).toBe(true);
  });

  it('--only config reads only the chunks of the config members', async () => {
    const { storage, main, checks, result, config } = await setup();
    await main.restore(result.id, { only: 'config' });
    expect(checks.map((c) => c.method)).toEqual(['ranges']);
    expect(config.restored['nginx.conf']?.toString()).toBe(CONFIG['nginx.conf']);
    expect(storage.reads.bytes.get(result.file) ?? 0).toBeLessThan(result.bytes * 0.05);
  });

  it('one altered ciphertext byte in a chunk the table needs fails the restore, nothing restored', async () => {
    const { dir, main, checks, result, db } = await setup();
    const { raw, manifest, payload } = await plaintextOf(dir, result.file);
    // A chunk in the middle of big3's members: far from the manifest's, read mid-restore.
    const at = manifest.entries.find((e) => e.path === 'database/data/big3.csv')!.location!;
    const chunk = Math.floor((at.member + at.end) / 2 / CHUNK);
    const bytes = Buffer.from(raw);
    bytes[payload + chunk * SEALED + 40]! ^= 0x04;
    await writeFile(join(dir, result.file), bytes);
    const error = await rejectionOf(main.restore(result.id, { tables: { tables: ['big3'] } }));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(error.message).toContain(`chunk ${chunk} `);
    expect(error.message).not.toContain(keys.identity);
    expect(checks.map((c) => c.method)).toEqual(['ranges']);
    expect(db.restored['data/big3.csv']).toBeUndefined();
  });

  it("an altered byte in the last chunk (the manifest's) fails before the restore starts", async () => {
    const { dir, main, checks, result, db } = await setup();
    // manifest.json is the last entry: its member ends in the archive's last chunk.
    const bytes = await readFile(join(dir, result.file));
    bytes[bytes.length - 30]! ^= 0x04;
    await writeFile(join(dir, result.file), bytes);
    const error = await rejectionOf(main.restore(result.id, { tables: { tables: ['small'] } }));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(checks).toEqual([]);
    expect(db.restored).toEqual({});
  });

  it('an altered age header fails with DECRYPTION_FAILED before anything is restored', async () => {
    const { dir, main, checks, result, db } = await setup();
    const raw = await readFile(join(dir, result.file));
    const body = raw.indexOf('\n', raw.indexOf('-> X25519')) + 3;
    raw[body] = raw[body] === 0x41 ? 0x42 : 0x41;
    await writeFile(join(dir, result.file), raw);
    const error = await rejectionOf(main.restore(result.id, { tables: { tables: ['small'] } }));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(checks).toEqual([]);
    expect(db.restored).toEqual({});
  });

  it('a wrong identity fails with DECRYPTION_FAILED, naming no key', async () => {
    const { engine, result, db } = await setup();
    const error = await rejectionOf(
      engine(other.identity).restore(result.id, { tables: { tables: ['small'] } }),
    );
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(error.message).not.toContain(other.identity);
    expect(db.restored).toEqual({});
  });
});
