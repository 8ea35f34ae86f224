import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import tar, { type Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;

import type { EntryInput, EntryRecord } from '../contracts.js';
import { LifeboatError, throwIfAborted } from '../errors.js';
import { createEntryLocator } from './entry-locator.js';
import { createParallelGzip } from './parallel-gzip.js';
import { assertSafeEntryPath } from './paths.js';

export interface ArchiveWriterOptions {
  compressionLevel?: number;
  compressionConcurrency?: number;
  signal?: AbortSignal;
}

export interface ArchiveWriter {
  /** The compressed archive bytes. Read it (hand it to a storage) while entries are added. */
  readonly output: Readable;
  /**
   * Writes one entry under `path` (full archive path). Entries are written one at a time; once it
   * resolves, no chunk of a stream body is referenced any more (its source may reuse them).
   */
  add(path: string, entry: EntryInput): Promise<EntryRecord>;
  /**
   * Resolves once every entry added so far is compressed, with its `location` set; the next
   * entry starts a new gzip member. Await it before writing a manifest that lists locations.
   */
  sync(): Promise<void>;
  /** Ends the archive after all entries. */
  finish(): Promise<void>;
  /** Stops writing: the output stream errors with `error`. */
  abort(error: Error): void;
  readonly entries: readonly EntryRecord[];
}

/** Streams a tar archive through parallel gzip; every entry is hashed as it passes. */
export function createArchiveWriter(options: ArchiveWriterOptions = {}): ArchiveWriter {
  const pack = tar.pack();
  const locator = createEntryLocator();
  const gzip = createParallelGzip({
    level: options.compressionLevel ?? 6,
    concurrency: options.compressionConcurrency ?? 4,
    onMember: locator.member,
  });
  // Every tar byte goes through pack.push synchronously as entries are encoded, so counting
  // there gives each entry's tar offset the moment it begins (tar-stream has no other hook).
  let tarBytes = 0;
  const push = pack.push.bind(pack);
  (pack as unknown as { push: (data: Buffer | null) => boolean }).push = (data) => {
    if (data) tarBytes += data.byteLength;
    return push(data);
  };
  pack.on('error', (err: Error) => gzip.destroy(err));
  pack.pipe(gzip);
  const entries: EntryRecord[] = [];
  const seen = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  let failed: Error | undefined;

  const writeOne = async (path: string, input: EntryInput): Promise<EntryRecord> => {
    if (failed) throw failed;
    throwIfAborted(options.signal);
    const safePath = assertSafeEntryPath(path);
    if (seen.has(safePath)) {
      throw new LifeboatError('ENTRY_DUPLICATE', `Entry "${safePath}" was added twice`);
    }
    seen.add(safePath);
    const mode = input.mode ?? (input.type === 'directory' ? 0o755 : 0o644);
    const record: EntryRecord = {
      path: safePath,
      type: input.type,
      size: 0,
      mode: mode & 0o7777,
      ...(input.mtime ? { mtime: input.mtime.toISOString() } : {}),
    };
    const header = { name: safePath, mode: record.mode, mtime: input.mtime ?? new Date() };
    const begun = tarBytes;
    const located = locator.begin(begun, (location) => {
      record.location = location;
    });
    if (input.type === 'directory') {
      await addBuffer({ ...header, type: 'directory' }, Buffer.alloc(0));
    } else if (input.type === 'symlink') {
      if (!input.linkname)
        throw new LifeboatError('INTERNAL', `Symlink "${safePath}" has no target`);
      record.linkname = input.linkname;
      await addBuffer({ ...header, type: 'symlink', linkname: input.linkname }, Buffer.alloc(0));
    } else {
      const hash = createHash('sha256');
      if (input.body instanceof Uint8Array) {
        hash.update(input.body);
        record.size = input.body.byteLength;
        await addBuffer({ ...header, type: 'file', size: record.size }, input.body);
      } else {
        if (input.size === undefined || !input.body) {
          throw new LifeboatError('INTERNAL', `File entry "${safePath}" needs a size and a body`);
        }
        record.size = input.size;
        await addStream(
          { ...header, type: 'file', size: input.size },
          await input.body(),
          hash,
          safePath,
        );
      }
      record.sha256 = hash.digest('hex');
    }
    located.end(tarBytes - begun);
    entries.push(record);
    return record;
  };

  const addBuffer = (header: Headers, body: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(header, Buffer.from(body.buffer, body.byteOffset, body.byteLength), (err) =>
        err ? reject(err) : resolve(),
      );
    });

  const addStream = async (
    header: Headers & { size: number },
    body: Readable,
    hash: ReturnType<typeof createHash>,
    path: string,
  ) => {
    let settle!: (err?: Error | null) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    done.catch(() => {});
    const sink = pack.entry(header, (err) => settle(err));
    // A destroyed entry also emits 'error'; the failure is thrown below, so it must not crash.
    sink.on('error', (err: Error) => settle(err));
    let written = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        throwIfAborted(options.signal);
        written += chunk.length;
        if (written > header.size) break;
        hash.update(chunk);
        if (!sink.write(chunk)) await once(sink, 'drain');
      }
    } catch (error) {
      sink.destroy(error as Error);
      throw error;
    }
    if (written !== header.size) {
      const err = new LifeboatError(
        'FILE_CHANGED',
        `Entry "${path}" yielded ${written > header.size ? 'more' : 'fewer'} bytes than its declared size ${header.size}`,
      );
      body.destroy();
      sink.destroy(err);
      throw err;
    }
    sink.end(() => {});
    await done;
    // The body's chunks may be the source's own buffers, reused once its entry is added (a
    // backup's table parts): the entry counts as added when the compressor has copied them.
    await gzip.consumed(tarBytes);
  };

  return {
    output: gzip,
    entries,
    add(path, entry) {
      const result = queue.then(() => writeOne(path, entry));
      queue = result.catch((error: Error) => {
        failed ??= error;
      });
      return result;
    },
    async sync() {
      await queue;
      if (failed) throw failed;
      await gzip.cut(tarBytes);
    },
    async finish() {
      await queue;
      if (failed) throw failed;
      pack.finalize();
    },
    abort(error) {
      failed ??= error;
      pack.destroy(error);
      gzip.destroy(error);
    },
  };
}
