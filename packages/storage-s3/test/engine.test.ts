import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  ageCipher,
  createEngine,
  generateAgeIdentity,
  type Source,
  type Storage,
} from '@lifeboat/core';
import { countingStorage, rejectionOf } from '@lifeboat/core/testing';
import { s3Storage } from '@lifeboat/storage-s3';
import { ACCESS_KEY, SECRET_KEY, startS3, type TestS3 } from '@lifeboat/test-support/s3';
import { partialTables, type TableRestoreOptions } from '@lifeboat/test-support/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A tiny source: emits the given files under `config/`, and records what a restore hands it. */
function filesSource(files: Record<string, Buffer>, options: { failAfter?: number } = {}) {
  const restored: Record<string, Buffer> = {};
  const source = {
    id: 'files',
    section: 'config',
    describe: () => 'test files',
    async connect() {},
    async close() {},
    async backup(ctx) {
      let n = 0;
      for (const [path, data] of Object.entries(files)) {
        if (options.failAfter !== undefined && n++ >= options.failAfter)
          throw new Error('the source broke');
        await ctx.emit({
          path,
          type: 'file',
          size: data.length,
          mode: 0o600,
          body: () => Readable.from([data]),
        });
      }
      return { files: Object.keys(files).length };
    },
    async restore(ctx) {
      for await (const entry of ctx.entries)
        restored[entry.relativePath] = await buffer(entry.stream);
      return { restored: Object.keys(restored).length };
    },
  } satisfies Source;
  return { source, restored };
}

let s3: TestS3;
let identity: string;
let recipient: string;
let otherIdentity: string;
beforeAll(async () => {
  s3 = await startS3({ conditionalWrites: true });
  ({ identity, recipient } = await generateAgeIdentity());
  ({ identity: otherIdentity } = await generateAgeIdentity());
});
afterAll(async () => {
  await s3?.close();
});

const files = {
  '.env.production': Buffer.from('DATABASE_URL=postgres://app:pw@db/app\n'),
  'nginx.prod.conf': Buffer.from('server { listen 443 ssl; }\n'),
  // Incompressible and larger than one part, so the archive goes up as a multipart upload.
  'ssl/blob.bin': randomBytes(7 * 1024 * 1024),
};

const storageAt = (prefix: string): Storage =>
  s3Storage({
    bucket: s3.bucket,
    prefix,
    endpoint: s3.endpoint,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    partSizeBytes: 5 * 1024 * 1024,
  });

describe('engine round trips through S3 (s3rver)', () => {
  it('backs up, lists, verifies and restores without encryption', async () => {
    const prefix = `engine/${randomUUID()}`;
    const engine = createEngine({
      sources: [filesSource(files).source],
      storage: storageAt(prefix),
    });
    const result = await engine.backup();
    expect(result.file).toMatch(/^critical_backup_\d{8}_\d{6}\.tar\.gz$/);
    expect(result.storage).toBe(`s3://${s3.bucket}/${prefix} (${s3.endpoint})`);
    expect(s3.requests.some((r) => r.includes('uploadId=') && r.startsWith('POST'))).toBe(true);
    // Its index record, listed under the prefix, makes it count as a backup (issue 14 item 8).
    expect((await engine.list()).map((a) => [a.file, a.indexed, a.untrusted])).toEqual([
      [result.file, true, undefined],
    ]);
    const verify = await engine.verify('latest');
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    await engine.close();

    const restoring = filesSource({});
    const restorer = createEngine({ sources: [restoring.source], storage: storageAt(prefix) });
    await restorer.restore(result.id);
    expect(Object.keys(restoring.restored).sort()).toEqual(Object.keys(files).sort());
    for (const [path, data] of Object.entries(files))
      expect(restoring.restored[path]?.equals(data), path).toBe(true);
    expect((await restorer.history()).map((r) => [r.kind, r.ok])).toEqual(
      expect.arrayContaining([
        ['backup', true],
        ['verify', true],
      ]),
    );
    await restorer.close();
  });

  it('backs up encrypted (….tar.gz.age), verifies and restores the same bytes', async () => {
    const prefix = `engine/${randomUUID()}`;
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const engine = createEngine({
      sources: [filesSource(files).source],
      storage: storageAt(prefix),
      cipher,
    });
    const result = await engine.backup();
    expect(result.encrypted).toBe(true);
    expect(result.file).toMatch(/^critical_backup_\d{8}_\d{6}\.tar\.gz\.age$/);
    const storage = storageAt(prefix);
    await storage.connect();
    const stored = await buffer(await storage.get(result.file));
    expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect(stored.includes(files['.env.production'].subarray(0, 20))).toBe(false);
    expect((await engine.list()).map((a) => [a.file, a.encrypted, a.untrusted])).toEqual([
      [result.file, true, undefined],
    ]);
    expect((await engine.verify('latest')).id).toBe(result.id);
    expect((await engine.verify(result.id)).ok).toBe(true);

    const restoring = filesSource({});
    const restorer = createEngine({
      sources: [restoring.source],
      storage: storageAt(prefix),
      cipher,
    });
    await restorer.restore('latest');
    for (const [path, data] of Object.entries(files))
      expect(restoring.restored[path]?.equals(data), path).toBe(true);
    await Promise.all([engine.close(), restorer.close(), storage.close()]);
  });

  it('without the identity lists but cannot verify or restore; a wrong identity cannot either', async () => {
    const prefix = `engine/${randomUUID()}`;
    const writer = createEngine({
      sources: [filesSource(files).source],
      storage: storageAt(prefix),
      cipher: ageCipher({ recipients: [recipient] }),
    });
    const { id } = await writer.backup();
    // The backup host holds only the public key: the archive is written, but it cannot read it back.
    expect((await writer.list()).map((a) => a.id)).toEqual([id]);
    const verify = await writer.verify(id);
    expect(verify.ok).toBe(false);
    expect(verify.problems.map((p) => p.code)).toEqual(['IDENTITY_REQUIRED']);
    const restoring = filesSource({});
    const noKey = createEngine({ sources: [restoring.source], storage: storageAt(prefix) });
    expect((await rejectionOf(noKey.restore(id))).code).toBe('IDENTITY_REQUIRED');

    const wrong = createEngine({
      sources: [restoring.source],
      storage: storageAt(prefix),
      cipher: ageCipher({ identities: [otherIdentity] }),
    });
    const error = await rejectionOf(wrong.restore(id));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(JSON.stringify(error)).not.toContain(otherIdentity);
    expect(restoring.restored).toEqual({});
    await Promise.all([writer.close(), noKey.close(), wrong.close()]);
  });

  it('refuses a tampered ciphertext in verify and restore before the source writes anything', async () => {
    const prefix = `engine/${randomUUID()}`;
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const writer = createEngine({
      sources: [filesSource(files).source],
      storage: storageAt(prefix),
      cipher,
    });
    const { id, file } = await writer.backup();
    const storage = storageAt(prefix);
    await storage.connect();
    const stored = await buffer(await storage.get(file));
    stored[stored.length - 1000]! ^= 0x01;
    await storage.put(file, stored, { overwrite: true });

    const verify = await writer.verify(id);
    expect(verify.ok).toBe(false);
    expect(verify.problems[0]?.code).toBe('DECRYPTION_FAILED');
    const restoring = filesSource({});
    const restorer = createEngine({
      sources: [restoring.source],
      storage: storageAt(prefix),
      cipher,
    });
    expect((await rejectionOf(restorer.restore(id))).code).toBe('DECRYPTION_FAILED');
    expect(restoring.restored).toEqual({});
    await Promise.all([writer.close(), restorer.close(), storage.close()]);
  });

  it('leaves no archive and no multipart upload when a source fails mid-backup', async () => {
    const prefix = `engine/${randomUUID()}`;
    const big = {
      'a.bin': randomBytes(6 * 1024 * 1024),
      'b.bin': randomBytes(6 * 1024 * 1024),
      'c.bin': Buffer.from('c'),
    };
    const engine = createEngine({
      sources: [filesSource(big, { failAfter: 2 }).source],
      storage: storageAt(prefix),
      cipher: ageCipher({ recipients: [recipient] }),
    });
    const error = await rejectionOf(engine.backup());
    expect(error.message).toMatch(/the source broke/);
    expect(await engine.list()).toEqual([]);
    expect((await s3.uploads()).filter((u) => u.key.startsWith(prefix))).toEqual([]);
    const history = await engine.history();
    expect(history[0]?.ok).toBe(false);
    await engine.close();
  });
});

describe('partial restore through S3: ranged GETs', () => {
  it.each([
    ['unencrypted', false],
    ['age-encrypted (only the 64 KiB chunks covering the members)', true],
  ])(
    'restoring one small table reads a small fraction of the archive: %s',
    async (_name, encrypted) => {
      const prefix = `partial/${randomUUID()}`;
      const tables: Record<string, Buffer> = {
        'data/big1.csv': randomBytes(8 * 1024 * 1024),
        'data/small.csv': Buffer.from('id,name\n1,one\n'),
        'data/big2.csv': randomBytes(8 * 1024 * 1024),
      };
      const restored: Record<string, Buffer> = {};
      const database = {
        ...filesSource(tables).source,
        id: 'tables',
        section: 'database',
        restoreEntries: (_summary, options) => options.tables?.map((t) => `data/${t}.csv`),
        partialRestore: partialTables,
        async restore(ctx) {
          for await (const entry of ctx.entries)
            restored[entry.relativePath] = await buffer(entry.stream);
          return {};
        },
      } satisfies Source<Record<string, unknown>, TableRestoreOptions>;
      const storage = countingStorage(storageAt(prefix));
      const engine = createEngine({
        sources: [database],
        storage,
        ...(encrypted
          ? { cipher: ageCipher({ recipients: [recipient], identities: [identity] }) }
          : {}),
      });
      const methods: string[] = [];
      engine.events.on('restore:checked', (e) => methods.push(e.method));
      const result = await engine.backup();
      expect(result.encrypted).toBe(encrypted);
      storage.reads.bytes.clear();
      storage.reads.gets.length = 0;
      await engine.restore(result.id, { tables: { tables: ['small'] } });
      expect(methods).toEqual(['ranges']);
      expect(Object.keys(restored)).toEqual(['data/small.csv']);
      expect(restored['data/small.csv']?.equals(tables['data/small.csv']!)).toBe(true);
      const read = storage.reads.bytes.get(result.file) ?? 0;
      expect(read).toBeGreaterThan(0);
      // The one gzip member holding it (1 MiB of input; random bytes do not compress) and the
      // manifest's members (encrypted: rounded out to whole age chunks): a small part of it.
      expect(read).toBeLessThan(1.3 * 1024 * 1024);
      expect(read).toBeLessThan(result.bytes * 0.1);
      expect(storage.reads.gets.filter((g) => g.key === result.file).every((g) => g.range)).toBe(
        true,
      );
      await engine.close();
    },
  );
});

describe('verify of chosen entries through S3: ranged GETs', () => {
  it.each([
    ['unencrypted', false],
    ['age-encrypted', true],
  ])(
    'verifying one small table reads a small fraction of the archive: %s',
    async (_name, encrypted) => {
      const prefix = `verify-chosen/${randomUUID()}`;
      const tables: Record<string, Buffer> = {
        'data/big1.csv': randomBytes(8 * 1024 * 1024),
        'data/small.csv': Buffer.from('id,name\n1,one\n'),
        'data/big2.csv': randomBytes(8 * 1024 * 1024),
      };
      const database = {
        ...filesSource(tables).source,
        id: 'tables',
        section: 'database',
        restoreEntries: (_summary, options) => options.tables?.map((t) => `data/${t}.csv`),
        partialRestore: partialTables,
      } satisfies Source<Record<string, unknown>, TableRestoreOptions>;
      const storage = countingStorage(storageAt(prefix));
      const engine = createEngine({
        sources: [database],
        storage,
        ...(encrypted
          ? { cipher: ageCipher({ recipients: [recipient], identities: [identity] }) }
          : {}),
      });
      const result = await engine.backup();
      storage.reads.bytes.clear();
      storage.reads.gets.length = 0;
      const v = await engine.verify(result.id, { tables: { tables: ['small'] } });
      expect(v.ok).toBe(true);
      expect(v.chosen).toMatchObject({ method: 'ranges', entries: ['database/data/small.csv'] });
      const read = storage.reads.bytes.get(result.file) ?? 0;
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(result.bytes * 0.1);
      expect(v.chosen?.storedBytesRead).toBe(read);
      expect(storage.reads.gets.filter((g) => g.key === result.file).every((g) => g.range)).toBe(
        true,
      );
      // Not recorded as a verify of the archive.
      expect((await engine.status()).lastVerify).toBeUndefined();
      await engine.close();
    },
  );
});
