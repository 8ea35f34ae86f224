import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../contracts.js';
import type { LifeboatError } from '../errors.js';
import { rejectionOf } from './rejection.js';

export interface StorageHarness {
  storage: Storage;
  /** Removes what the test made. */
  cleanup?(): Promise<void>;
}

export interface StorageSuiteOptions {
  /** Bytes of the large streamed object (default 24 MiB). */
  largeBytes?: number;
  /** Secrets the storage knows; none may appear in describe() or in any error. */
  secrets?: string[];
}

/** A stream that yields `bytes` random bytes in 64 KiB chunks, then fails if `failAt` is set. */
export function randomStream(
  bytes: number,
  failAt?: number,
): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (failAt !== undefined && sent >= failAt) {
        this.destroy(new Error('source failed mid-stream'));
        return;
      }
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(65536, bytes - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

const expectCode = async (promise: Promise<unknown>, code: string) => {
  const error = await rejectionOf(promise);
  expect(error.code).toBe(code);
  return error;
};

/**
 * The shared storage conformance suite: every storage package runs it (like keyv's test-suite
 * and restic's backend tests), so a new storage keeps the same guarantees as storage-local.
 */
export function testStorage(
  name: string,
  create: () => Promise<StorageHarness>,
  options: StorageSuiteOptions = {},
) {
  describe(`storage conformance: ${name}`, () => {
    let harness: StorageHarness;
    let storage: Storage;
    beforeEach(async () => {
      harness = await create();
      storage = harness.storage;
      await storage.connect();
    });
    afterEach(async () => {
      await storage.close();
      await harness.cleanup?.();
    });

    it('has an id and a description without secrets', () => {
      expect(storage.id).toMatch(/^[a-z0-9-]+$/);
      const text = storage.describe();
      expect(text.length).toBeGreaterThan(0);
      for (const secret of options.secrets ?? []) expect(text).not.toContain(secret);
    });

    it('puts a buffer and gets the same bytes back, with stat and list', async () => {
      const body = Buffer.from('hello lifeboat\n');
      const stored = await storage.put('a_20260101_000000.tar.gz', body);
      expect(stored.key).toBe('a_20260101_000000.tar.gz');
      expect(stored.bytes).toBe(body.length);
      expect(await buffer(await storage.get('a_20260101_000000.tar.gz'))).toEqual(body);
      const stat = await storage.stat('a_20260101_000000.tar.gz');
      expect(stat.bytes).toBe(body.length);
      expect(stat.modifiedAt).toBeInstanceOf(Date);
      expect(Math.abs(stat.modifiedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      const listed = await storage.list('');
      expect(listed.map((o) => o.key)).toContain('a_20260101_000000.tar.gz');
    });

    it('streams a large object both ways without changing a byte', async () => {
      const bytes = options.largeBytes ?? 24 * 1024 * 1024;
      const source = randomStream(bytes);
      const stored = await storage.put('large.bin', source.stream);
      expect(stored.bytes).toBe(bytes);
      const hash = createHash('sha256');
      let got = 0;
      for await (const chunk of (await storage.get('large.bin')) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        got += chunk.length;
      }
      expect(got).toBe(bytes);
      expect(hash.digest('hex')).toBe(source.sha256());
    });

    it('stores empty objects and nested keys', async () => {
      await storage.put('.lifeboat/history/run-1.json', Buffer.alloc(0));
      await storage.put('.lifeboat/history/run-2.json', Buffer.from('{}'));
      await storage.put('other/x', Buffer.from('x'));
      const keys = (await storage.list('.lifeboat/history/')).map((o) => o.key).sort();
      expect(keys).toEqual(['.lifeboat/history/run-1.json', '.lifeboat/history/run-2.json']);
      expect((await storage.stat('.lifeboat/history/run-1.json')).bytes).toBe(0);
      expect((await buffer(await storage.get('.lifeboat/history/run-1.json'))).length).toBe(0);
    });

    it('never overwrites an existing key unless asked', async () => {
      await storage.put('k.tar.gz', Buffer.from('first'));
      await expectCode(storage.put('k.tar.gz', Buffer.from('second')), 'ALREADY_EXISTS');
      expect((await buffer(await storage.get('k.tar.gz'))).toString()).toBe('first');
      await storage.put('k.tar.gz', Buffer.from('third'), { overwrite: true });
      expect((await buffer(await storage.get('k.tar.gz'))).toString()).toBe('third');
    });

    it('reads a byte range alone (a positioned read, a ranged GET)', async () => {
      const body = randomBytes(300 * 1024);
      await storage.put('ranged.tar.gz', body);
      const read = async (start: number, end: number) =>
        buffer(await storage.get('ranged.tar.gz', { range: { start, end } }));
      expect(await read(0, 10)).toEqual(body.subarray(0, 10));
      expect(await read(1000, 200_000)).toEqual(body.subarray(1000, 200_000));
      expect(await read(body.length - 7, body.length)).toEqual(body.subarray(body.length - 7));
      // Past the end: what there is, possibly nothing.
      expect(await read(body.length - 3, body.length + 100)).toEqual(body.subarray(-3));
      expect((await read(body.length + 10, body.length + 20)).length).toBe(0);
      expect((await read(500, 500)).length).toBe(0);
      await expectCode(
        storage.get('missing.tar.gz', { range: { start: 0, end: 10 } }),
        'NOT_FOUND',
      );
      await expectCode(storage.get('missing.tar.gz', { range: { start: 5, end: 5 } }), 'NOT_FOUND');
    });

    it('says NOT_FOUND for a missing key', async () => {
      await expectCode(storage.get('missing.tar.gz'), 'NOT_FOUND');
      await expectCode(storage.stat('missing.tar.gz'), 'NOT_FOUND');
    });

    it('deletes, and deleting a missing key is not an error', async () => {
      await storage.put('d.tar.gz', Buffer.from('x'));
      await storage.delete('d.tar.gz');
      await expectCode(storage.stat('d.tar.gz'), 'NOT_FOUND');
      await storage.delete('d.tar.gz');
      expect((await storage.list('')).map((o) => o.key)).not.toContain('d.tar.gz');
    });

    it('leaves nothing under the name when the body fails mid-stream', async () => {
      await storage.put('keep.tar.gz', Buffer.from('earlier archive'));
      const source = randomStream(8 * 1024 * 1024, 3 * 1024 * 1024);
      const error = await storage.put('broken.tar.gz', source.stream).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      for (const secret of options.secrets ?? [])
        expect(String((error as Error).message)).not.toContain(secret);
      await expectCode(storage.stat('broken.tar.gz'), 'NOT_FOUND');
      const keys = (await storage.list('')).map((o) => o.key);
      expect(keys).toEqual(['keep.tar.gz']);
      expect((await buffer(await storage.get('keep.tar.gz'))).toString()).toBe('earlier archive');
    });

    it('leaves nothing under the name when the put is aborted', async () => {
      const controller = new AbortController();
      const source = randomStream(64 * 1024 * 1024);
      let sent = 0;
      source.stream.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent > 2 * 1024 * 1024) controller.abort(new Error('stop'));
      });
      await expect(
        storage.put('aborted.tar.gz', source.stream, { signal: controller.signal }),
      ).rejects.toThrow();
      await expectCode(storage.stat('aborted.tar.gz'), 'NOT_FOUND');
      expect((await storage.list('')).map((o) => o.key)).not.toContain('aborted.tar.gz');
    });

    it('stops a put at once when aborted while its body is stalled', async () => {
      // A body that sends a little, then neither ends nor fails (a source hung, a pipe that does
      // not pass errors on): only the signal can end the put.
      const controller = new AbortController();
      const body = new PassThrough();
      body.write(Buffer.alloc(64 * 1024, 1));
      const put = storage.put('stalled.tar.gz', body, { signal: controller.signal });
      put.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort(new Error('stop'));
      const outcome = await Promise.race([
        put.then(
          () => 'stored',
          () => 'rejected',
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
      ]);
      expect(outcome).toBe('rejected');
      await expectCode(storage.stat('stalled.tar.gz'), 'NOT_FOUND');
    });

    it('rejects stat, list and delete with ABORTED when their signal has aborted', async () => {
      await storage.put('kept.tar.gz', Buffer.from('kept'));
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const signal = controller.signal;
      await expectCode(storage.stat('kept.tar.gz', { signal }), 'ABORTED');
      await expectCode(storage.list('', { signal }), 'ABORTED');
      await expectCode(storage.delete('kept.tar.gz', { signal }), 'ABORTED');
      // An aborted delete removes nothing; a live signal changes nothing.
      const live = new AbortController().signal;
      expect((await storage.stat('kept.tar.gz', { signal: live })).bytes).toBe(4);
      expect((await storage.list('', { signal: live })).map((o) => o.key)).toContain('kept.tar.gz');
      await storage.delete('kept.tar.gz', { signal: live });
      await expectCode(storage.stat('kept.tar.gz'), 'NOT_FOUND');
    });

    it('lets exactly one of two racing exclusive puts win', async () => {
      if (!storage.capabilities.exclusiveCreate) return;
      const results = await Promise.allSettled([
        storage.put('.lifeboat/lock', Buffer.from('one')),
        storage.put('.lifeboat/lock', Buffer.from('two')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((rejected.reason as LifeboatError).code).toBe('ALREADY_EXISTS');
    });

    it('reports free space when it says it can', async () => {
      if (!storage.capabilities.freeSpace) {
        expect(storage.freeSpace).toBeUndefined();
        return;
      }
      const space = await storage.freeSpace!();
      expect(space.freeBytes).toBeGreaterThanOrEqual(0);
      expect(space.totalBytes).toBeGreaterThanOrEqual(space.freeBytes);
    });
  });
}
