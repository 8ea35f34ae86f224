import { buffer } from 'node:stream/consumers';
import {
  ageCipher,
  createEngine,
  INDEX_PREFIX,
  type LifeboatEventMap,
  memoryStorage,
  type Storage,
} from '@lifeboat/core';
import { faultyStorage, rejectionOf } from '@lifeboat/core/testing';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

const FILES = {
  '.env.production': 'DATABASE_URL=postgres://app:s3cret@db/app\n',
  'a.txt': 'x'.repeat(5000),
};

function setup(storage: Storage = memoryStorage(), cipher?: ReturnType<typeof ageCipher>) {
  const { source, restored } = fileSource(FILES);
  const engine = createEngine({
    sources: [source],
    storage,
    ...(cipher ? { cipher } : {}),
    retention: { keepLast: 1 },
    pruneAfterBackup: false,
  });
  const checks: LifeboatEventMap['restore:checked'][] = [];
  engine.events.on('restore:checked', (e) => checks.push(e));
  return { engine, storage, restored, checks };
}

const indexKeys = async (storage: Storage) =>
  (await storage.list('.lifeboat/index/')).map((o) => o.key);

describe('archive index: one read of the archive on restore', () => {
  it('a backup writes an index beside the archive; a restore trusts it once the stored bytes match', async () => {
    const { engine, storage, restored, checks } = setup();
    const result = await engine.backup();
    expect(await indexKeys(storage)).toEqual([`.lifeboat/index/${result.file}.json`]);
    const index = JSON.parse(
      (await buffer(await storage.get(`.lifeboat/index/${result.file}.json`))).toString(),
    );
    expect(index).toMatchObject({
      archive: result.file,
      bytes: result.bytes,
      sha256: result.sha256,
    });
    // Not an archive: the listing still shows only the one backup.
    expect((await engine.list()).map((a) => a.file)).toEqual([result.file]);

    await engine.restore(result.id);
    expect(checks).toEqual([{ id: result.id, method: 'index', durationMs: expect.any(Number) }]);
    expect(restored['.env.production']?.toString()).toBe(FILES['.env.production']);
    expect(restored['a.txt']?.toString()).toBe(FILES['a.txt']);
  });

  it('an archive changed after its index was written is checked fully and refused before any write', async () => {
    const { engine, storage, restored, checks } = setup();
    const result = await engine.backup();
    const bytes = await buffer(await storage.get(result.file));
    // Same length, one byte flipped deep inside the compressed data.
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await storage.put(result.file, bytes, { overwrite: true });

    await rejectionOf(engine.restore(result.id));
    expect(checks).toEqual([]);
    expect(Object.keys(restored)).toEqual([]);
  });

  it('an archive replaced between its check and its read is refused: the bytes read are checked too', async () => {
    const shared = memoryStorage();
    const { engine, restored, checks } = setup(shared);
    const first = await engine.backup();
    // Another valid archive of the same files, different content, in the same storage.
    const { source } = fileSource({ ...FILES, 'a.txt': 'y'.repeat(5000) });
    const other = createEngine({ sources: [source], storage: shared });
    const second = await other.backup();
    const swapped = await buffer(await shared.get(second.file));
    // Right after the index check passes, the archive is swapped for the other one (a put of
    // bytes in memory is done before it returns).
    engine.events.on('restore:checked', () => {
      void shared.put(first.file, swapped, { overwrite: true });
    });
    const error = await rejectionOf(engine.restore(first.id));
    expect(error.code).toBe('ARCHIVE_CORRUPT');
    expect(error.message).toContain('changed while it was being restored');
    expect(checks.map((c) => c.method)).toEqual(['index']);
    // The swapped content was read, and refused before the restore could finish.
    expect(restored['a.txt']?.toString()).not.toBe(FILES['a.txt']);
    await other.close();
  });

  it('a damaged index is ignored: the restore checks the whole archive and succeeds', async () => {
    const { engine, storage, restored, checks } = setup();
    const result = await engine.backup();
    const key = `.lifeboat/index/${result.file}.json`;
    const index = JSON.parse((await buffer(await storage.get(key))).toString());
    // A changed manifest no longer matches the manifest's own sha256 in the index.
    index.manifest = index.manifest.replace('a.txt', 'b.txt');
    await storage.put(key, Buffer.from(JSON.stringify(index)), { overwrite: true });
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['full']);
    expect(Object.keys(restored).sort()).toEqual(['.env.production', 'a.txt']);

    // Not JSON at all: the same.
    await storage.put(key, Buffer.from('{"archive": '), { overwrite: true });
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['full', 'full']);
  });

  it('the index of another archive is never trusted for this one', async () => {
    const { engine, storage, checks } = setup();
    const first = await engine.backup();
    const second = await engine.backup();
    const firstIndex = await buffer(await storage.get(`.lifeboat/index/${first.file}.json`));
    await storage.put(`.lifeboat/index/${second.file}.json`, firstIndex, { overwrite: true });
    await engine.restore(second.id);
    expect(checks.map((c) => c.method)).toEqual(['full']);
  });

  it('an archive without an index (older, or copied in by hand) is checked fully', async () => {
    const { engine, storage, checks } = setup();
    const result = await engine.backup();
    await storage.delete(`.lifeboat/index/${result.file}.json`);
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['full']);
  });

  it('prune deletes an archive’s index with it', async () => {
    const { engine, storage } = setup();
    const first = await engine.backup();
    const second = await engine.backup();
    const pruned = await engine.prune();
    expect(pruned.deleted).toEqual([first.file]);
    expect(await indexKeys(storage)).toEqual([`.lifeboat/index/${second.file}.json`]);
  });

  it('the index of an encrypted archive is encrypted too, and used by a restore that holds the identity', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const storage = memoryStorage();
    const { engine, restored, checks } = setup(
      storage,
      ageCipher({ recipients: [recipient], identities: [identity] }),
    );
    const result = await engine.backup();
    const key = `.lifeboat/index/${result.file}.json.age`;
    expect(await indexKeys(storage)).toEqual([key]);
    const stored = await buffer(await storage.get(key));
    expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    // No file name, digest or size of the manifest is readable without the identity.
    expect(stored.includes('.env.production')).toBe(false);
    expect(stored.includes(result.sha256)).toBe(false);
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['index']);
    expect(restored['a.txt']?.toString()).toBe(FILES['a.txt']);

    // Without the identity nothing is read from the index (and the restore asks for it).
    const { engine: noKey, checks: noKeyChecks } = setup(
      storage,
      ageCipher({ recipients: [recipient] }),
    );
    expect((await rejectionOf(noKey.restore(result.id))).code).toBe('IDENTITY_REQUIRED');
    expect(noKeyChecks).toEqual([]);
  });

  it('a failed index write is a warning on a good backup, and the restore still checks fully', async () => {
    // Every index write fails (as a folder that cannot be written would make it).
    const storage = faultyStorage(memoryStorage(), {
      match: (key) => key.startsWith(INDEX_PREFIX),
      failPut: true,
    });
    const { engine, checks } = setup(storage);
    const result = await engine.backup();
    expect(result.warnings.map((w) => w.code)).toEqual(['INDEX_FAILED']);
    expect((await storage.list('')).map((o) => o.key)).toContain(result.file);
    await engine.restore(result.id);
    expect(checks.map((c) => c.method)).toEqual(['full']);
  });
});

describe('readArchive: hashing entries', () => {
  it('hashes every entry by default, and skips it only when asked', async () => {
    const { createArchiveWriter, readArchive } = await import('@lifeboat/core');
    const writer = createArchiveWriter();
    const collected = buffer(writer.output);
    const record = await writer.add('config/a.txt', {
      path: 'a.txt',
      type: 'file',
      body: Buffer.from('hello'),
    });
    await writer.finish();
    const archive = await collected;
    const { Readable } = await import('node:stream');
    for (const [hashEntries, want] of [
      [undefined, record.sha256],
      [false, ''],
    ] as const) {
      const digests: string[] = [];
      for await (const entry of readArchive(
        Readable.from([archive]),
        hashEntries === undefined ? {} : { hashEntries },
      )) {
        expect((await buffer(entry.stream)).toString()).toBe('hello');
        digests.push(await entry.digest);
      }
      expect(digests).toEqual([want]);
    }
  });
});

describe('memory pacer', () => {
  it('a restore reports every stored byte it checks and every byte it inflates; none without a pacer', async () => {
    const { setMemoryPacer } = await import('@lifeboat/core');
    const { engine, storage, restored } = setup();
    const result = await engine.backup();
    const stored = (await buffer(await storage.get(result.file))).length;
    const inflated = (await import('node:zlib')).gunzipSync(
      await buffer(await storage.get(result.file)),
    ).length;
    let paced = 0;
    setMemoryPacer((bytes) => {
      paced += bytes;
    });
    try {
      await engine.restore(result.id);
    } finally {
      setMemoryPacer(undefined);
    }
    // The index check reads the stored bytes once, the restore inflates the whole archive once.
    expect(paced).toBe(stored + inflated);
    expect(restored['a.txt']?.toString()).toBe(FILES['a.txt']);
    const before = paced;
    await engine.restore(result.id);
    expect(paced).toBe(before);
  });
});

describe('prepareRestore: a target prepared while the stored bytes are hashed', () => {
  function preparing(replaces: string[] = []) {
    const { source, restored } = fileSource(FILES);
    const calls: string[] = [];
    const storage = memoryStorage();
    const prepared = {
      ...source,
      checkRestore: async () => ({ target: 'test files', inPlace: false, replaces }),
      prepareRestore: async () => {
        calls.push('prepare');
        return async () => {
          calls.push('undo');
        };
      },
      restore: async (ctx: Parameters<typeof source.restore>[0]) => {
        calls.push('restore');
        return source.restore(ctx);
      },
    };
    const engine = createEngine({ sources: [prepared], storage, pruneAfterBackup: false });
    return { engine, storage, restored, calls };
  }

  it('is kept by a restore that starts: never undone', async () => {
    const { engine, restored, calls } = preparing();
    const result = await engine.backup();
    await engine.restore(result.id);
    expect(calls).toEqual(['prepare', 'restore']);
    expect(restored['a.txt']?.toString()).toBe(FILES['a.txt']);
  });

  it('is undone when the stored bytes do not match, before the full check refuses them', async () => {
    const { engine, storage, restored, calls } = preparing();
    const result = await engine.backup();
    const bytes = await buffer(await storage.get(result.file));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await storage.put(result.file, bytes, { overwrite: true });
    await rejectionOf(engine.restore(result.id));
    expect(calls).toEqual(['prepare', 'undo']);
    expect(Object.keys(restored)).toEqual([]);
  });

  it('is undone when reading the stored bytes fails', async () => {
    const inner = preparing();
    const result = await inner.engine.backup();
    const storage = faultyStorage(inner.storage, {
      match: (key) => key === result.file,
      failGetAfterBytes: 100,
    });
    const { source } = fileSource(FILES);
    const calls: string[] = [];
    const engine = createEngine({
      sources: [
        {
          ...source,
          checkRestore: async () => ({ target: 'test files', inPlace: false, replaces: [] }),
          prepareRestore: async () => {
            // Slower than the failing read: the undo waits for it.
            await new Promise((resolve) => setTimeout(resolve, 50));
            calls.push('prepare');
            return async () => void calls.push('undo');
          },
        },
      ],
      storage,
      pruneAfterBackup: false,
    });
    await rejectionOf(engine.restore(result.id));
    expect(calls).toEqual(['prepare', 'undo']);
  });

  it('is not asked for when the restore would replace something (a confirmation comes first)', async () => {
    const { engine, calls } = preparing(['something']);
    const result = await engine.backup();
    expect((await rejectionOf(engine.restore(result.id))).code).toBe('CONFIRMATION_REQUIRED');
    expect(calls).toEqual([]);
  });
});
