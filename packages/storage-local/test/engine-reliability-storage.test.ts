import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEngine,
  isLifeboatError,
  LifeboatError,
  memoryStorage,
  retryingStorage,
} from '@lifeboat/core';
import { faultyStorage, randomStream, rejectionOf, testStorage } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const isArchive = (key: string) => /\.tar\.gz(\.age)?$/.test(key);

// 2 MiB of incompressible data, so the archive is written in many chunks.
const files = () => ({
  'big.bin': randomBuffer(2 * 1024 * 1024),
  'small.txt': 'hello',
});
const randomBuffer = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  return b;
};

let parent: string;
beforeEach(async () => {
  parent = await fs.mkdtemp(join(tmpdir(), 'lifeboat-faulty-'));
});
afterEach(async () => {
  await fs.rm(parent, { recursive: true, force: true });
});

describe('a storage that fails mid-write (faultyStorage around a real folder)', () => {
  it('fails the backup, lists nothing, leaves no partial file, records the failure; the next run works', async () => {
    const dir = join(parent, 'backups');
    const storage = faultyStorage(localStorage({ dir }), {
      match: isArchive,
      failPutAfterBytes: 256 * 1024,
    });
    const { source } = fileSource(files());
    const engine = createEngine({ sources: [source], storage });
    const failed: string[] = [];
    engine.events.on('backup:failed', (e) => failed.push(e.error.code));

    const error = await rejectionOf(engine.backup());
    expect(isLifeboatError(error)).toBe(true);
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.retryable).toBe(true);
    expect(storage.injected).toEqual([{ op: 'put', key: expect.stringMatching(/\.tar\.gz$/) }]);
    expect(failed).toEqual(['STORAGE_FAILED']);
    expect(await engine.list()).toEqual([]);
    // Nothing under a final name, no temporary file left behind, the lock released.
    const names = await fs.readdir(dir);
    expect(names.filter((n) => n !== '.lifeboat')).toEqual([]);
    expect(await fs.readdir(join(dir, '.lifeboat'))).toEqual(['history']);
    const [record] = await engine.history();
    expect(record).toMatchObject({ kind: 'backup', ok: false, error: { code: 'STORAGE_FAILED' } });
    expect((await engine.status()).lastFailure?.code).toBe('STORAGE_FAILED');

    storage.setFaults({});
    const ok = await engine.backup();
    expect((await engine.list()).map((a) => a.file)).toEqual([ok.file]);
    expect((await engine.verify(ok.id)).ok).toBe(true);
  });

  it('a write that fails at once (put refused) is reported the same way', async () => {
    const storage = faultyStorage(memoryStorage(), {
      match: isArchive,
      failPut: true,
      error: () => new LifeboatError('STORAGE_FULL', 'Injected: the disk is full'),
    });
    const { source } = fileSource({ 'a.txt': 'a' });
    const engine = createEngine({ sources: [source], storage });
    const error = await rejectionOf(engine.backup());
    expect(error.code).toBe('STORAGE_FULL');
    expect(await engine.list()).toEqual([]);
    expect((await engine.history())[0]?.error?.code).toBe('STORAGE_FULL');
  });

  it('a read that fails mid-archive: verify reports it, restore hands the source nothing', async () => {
    const inner = memoryStorage();
    const { source, restored } = fileSource(files());
    const engine = createEngine({ sources: [source], storage: inner });
    const { id } = await engine.backup();
    const storage = faultyStorage(inner, { match: isArchive, failGetAfterBytes: 300 * 1024 });
    const broken = createEngine({ sources: [source], storage });
    const verify = await broken.verify(id);
    expect(verify.ok).toBe(false);
    expect(verify.problems[0]?.code).toBe('STORAGE_FAILED');
    const error = await rejectionOf(broken.restore(id));
    expect(error.code).toBe('STORAGE_FAILED');
    expect(restored).toEqual({});
  });
});

describe('retryingStorage', () => {
  it('retries retryable failures and then succeeds', async () => {
    const inner = faultyStorage(memoryStorage(), {
      failPut: true,
      failGet: true,
      failList: true,
      failStat: true,
      failDelete: true,
      times: 2,
    });
    const retries: string[] = [];
    const storage = retryingStorage(inner, {
      attempts: 3,
      baseDelayMs: 1,
      onRetry: (r) => retries.push(`${r.op}#${r.attempt}`),
    });
    await storage.put('a', Buffer.from('x'));
    expect(retries).toEqual(['put#1', 'put#2']);
    expect(inner.injected).toHaveLength(2);
    // Later operations see no fault: `times` is spent.
    expect(await storage.list('')).toHaveLength(1);
  });

  it('gives up after `attempts` tries with the last error, and never retries a decision', async () => {
    const inner = faultyStorage(memoryStorage(), { failList: true, failStat: true });
    const storage = retryingStorage(inner, { attempts: 4, baseDelayMs: 1 });
    const error = await rejectionOf(storage.list(''));
    expect(error.code).toBe('STORAGE_FAILED');
    expect(inner.injected.filter((i) => i.op === 'list')).toHaveLength(4);
    // A non-retryable error (permission denied) is thrown at once.
    inner.setFaults({
      failStat: true,
      error: () => new LifeboatError('PERMISSION_DENIED', 'no'),
    });
    const before = inner.injected.length;
    expect((await rejectionOf(storage.stat('x'))).code).toBe('PERMISSION_DENIED');
    expect(inner.injected.length - before).toBe(1);
    // NOT_FOUND and ALREADY_EXISTS are answers, not failures.
    inner.setFaults({});
    await storage.put('k', Buffer.from('1'));
    expect((await rejectionOf(storage.put('k', Buffer.from('2')))).code).toBe('ALREADY_EXISTS');
    expect((await rejectionOf(storage.get('missing'))).code).toBe('NOT_FOUND');
  });

  it('does not retry a streamed put (the stream cannot be read twice)', async () => {
    const inner = faultyStorage(memoryStorage(), { failPutAfterBytes: 1000, times: 1 });
    const storage = retryingStorage(inner, { attempts: 5, baseDelayMs: 1 });
    const { stream } = randomStream(100_000);
    const error = await rejectionOf(storage.put('s', stream));
    expect(error.code).toBe('STORAGE_FAILED');
    expect(inner.injected).toHaveLength(1);
    expect(await storage.list('')).toEqual([]);
  });

  it('an exclusive put written after its try failed is its own on retry; another object is still ALREADY_EXISTS', async () => {
    // A write that completed after its deadline (STORAGE_TIMEOUT, retryable), as a hung mount or
    // a lost S3 answer leave it: the object is there, the caller was told it failed.
    const local = localStorage({ dir: join(parent, 'late') });
    await local.connect();
    let late = 1;
    const lateWrites: typeof local = {
      ...local,
      put: async (key, body, o) => {
        const stored = await local.put(key, body, o);
        if (late-- > 0) throw new LifeboatError('STORAGE_TIMEOUT', 'late', { retryable: true });
        return stored;
      },
    };
    const retries: string[] = [];
    const storage = retryingStorage(lateWrites, {
      baseDelayMs: 1,
      onRetry: (r) => retries.push(`${r.op}#${r.attempt}`),
    });
    const stored = await storage.put('run.lock', Buffer.from('pid 1, token a'));
    expect(retries).toEqual(['put#1']);
    expect(stored).toMatchObject({ key: 'run.lock', bytes: 14 });
    // Other bytes under that key: a real ALREADY_EXISTS (another run's lock), never taken over.
    late = 1;
    const other = await rejectionOf(storage.put('run.lock', Buffer.from('pid 2, token b')));
    expect(other.code).toBe('ALREADY_EXISTS');
    const chunks: Buffer[] = [];
    for await (const c of await local.get('run.lock')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('pid 1, token a');
  });

  it('an abort stops the wait between tries', async () => {
    const inner = faultyStorage(memoryStorage(), { failGet: true });
    const storage = retryingStorage(inner, { attempts: 10, baseDelayMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const began = Date.now();
    const error = await rejectionOf(storage.get('x', { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - began).toBeLessThan(2_000);
  });

  it('lets a backup through a storage that fails transiently (listing, lock, history)', async () => {
    const dir = join(parent, 'backups');
    const inner = faultyStorage(localStorage({ dir }), {
      failList: true,
      failPut: true,
      match: (k) => !isArchive(k),
      times: 3,
    });
    // Three faults in a row: the lock's put fails three times, so four tries are needed.
    const storage = retryingStorage(inner, { attempts: 4, baseDelayMs: 1 });
    const { source } = fileSource({ 'a.txt': 'x' });
    const engine = createEngine({ sources: [source], storage });
    const result = await engine.backup();
    expect(inner.injected.length).toBe(3);
    expect((await engine.list()).map((a) => a.file)).toEqual([result.file]);
    expect((await engine.history())[0]?.ok).toBe(true);
  });
});

// The decorators keep the storage contract.
testStorage(
  'retryingStorage(faultyStorage(memory)) without faults',
  async () => ({ storage: retryingStorage(faultyStorage(memoryStorage()), { baseDelayMs: 1 }) }),
  { largeBytes: 2 * 1024 * 1024 },
);
