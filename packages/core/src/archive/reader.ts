import { createHash } from 'node:crypto';
import { PassThrough, type Readable, Transform } from 'node:stream';
import tar from 'tar-stream';
import type { EntryType } from '../contracts.js';
import { isLifeboatError, LifeboatError } from '../errors.js';
import { paceMemory } from '../memory-pacer.js';
import { createParallelGunzip } from './parallel-gunzip.js';
import { assertSafeEntryPath, assertSafeLink } from './paths.js';

export interface ReadEntry {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
  /** The entry's bytes. Read it to the end, or leave it: the reader drains what is left. */
  stream: Readable;
  /** Resolves with the sha256 of the bytes once the stream has been read to the end. */
  digest: Promise<string>;
}

export interface ArchiveReaderOptions {
  /** Refuse when the expanded bytes exceed this many times the compressed bytes (past a floor). */
  maxExpansionRatio?: number;
  /** Expanded bytes always allowed, whatever the ratio. */
  expansionFloorBytes?: number;
  /**
   * Hash every entry (default). Off only when the archive's raw bytes were already proven to be
   * the ones written (its stored sha256 matched): then `digest` resolves to ''.
   */
  hashEntries?: boolean;
  /**
   * The input starts at a gzip member inside an archive: of the inflated bytes, skip `skip` and
   * read `bytes` (whole entries), then stop as at the tar's end.
   */
  slice?: { skip: number; bytes: number };
  /** Gzip members inflated at once on the thread pool (each holds its inflated output). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Maps zlib / tar parser failures to stable codes. */
export function classifyReadError(error: unknown): LifeboatError {
  if (isLifeboatError(error)) return error;
  const err = error as Error & { code?: string };
  const message = err?.message ?? String(error);
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') {
    return new LifeboatError('ABORTED', undefined, { cause: error });
  }
  if (
    err?.code === 'Z_DATA_ERROR' &&
    /incorrect header check|unknown compression method/i.test(message)
  ) {
    return new LifeboatError('ARCHIVE_NOT_GZIP', 'The archive is not a gzip file (bad header)', {
      cause: error,
    });
  }
  if (err?.code === 'Z_BUF_ERROR' || /unexpected end|premature|truncated/i.test(message)) {
    return new LifeboatError('ARCHIVE_TRUNCATED', `The archive ends too early: ${message}`, {
      cause: error,
    });
  }
  if (err?.code?.startsWith('Z_') || /invalid|checksum|incorrect/i.test(message)) {
    return new LifeboatError('ARCHIVE_CORRUPT', `The archive is damaged: ${message}`, {
      cause: error,
    });
  }
  return new LifeboatError('ARCHIVE_CORRUPT', `The archive cannot be read: ${message}`, {
    cause: error,
  });
}

const TOP_LEVEL_FILES = new Set(['manifest.json', 'BACKUP_INFO.txt', 'SHA256SUMS']);

/**
 * Reads a .tar.gz stream entry by entry. Every path is checked before the entry is handed out:
 * unsafe paths, links out of their folder, hard links and devices, and duplicate names throw.
 */
export async function* readArchive(
  input: Readable,
  options: ArchiveReaderOptions = {},
): AsyncGenerator<ReadEntry> {
  const ratio = options.maxExpansionRatio ?? 1000;
  const floor = options.expansionFloorBytes ?? 1024 * 1024 * 1024;
  let compressed = 0;
  let expanded = 0;
  const countIn = new Transform({
    transform(chunk: Buffer, _e, cb) {
      compressed += chunk.length;
      cb(null, chunk);
    },
  });
  const gunzip = createParallelGunzip(
    options.concurrency ? { concurrency: options.concurrency } : {},
  );
  const slice = options.slice;
  let inflated = 0;
  // Only for a slice: the whole-archive path keeps its pipeline as short as it was.
  const cut =
    slice &&
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        const from = inflated;
        inflated += chunk.length;
        const start = Math.max(0, slice.skip - from);
        const end = Math.min(chunk.length, slice.skip + slice.bytes - from);
        cb(null, end > start ? chunk.subarray(start, end) : undefined);
      },
      flush(cb) {
        cb(
          inflated < slice.skip + slice.bytes
            ? new LifeboatError('ARCHIVE_TRUNCATED', 'The archive ends inside the entries read')
            : null,
        );
      },
    });
  const countOut = new Transform({
    transform(chunk: Buffer, _e, cb) {
      expanded += chunk.length;
      // Inflated members are dropped as soon as the entries have them (memory-pacer.ts).
      paceMemory(chunk.length);
      if (expanded > floor && expanded > compressed * ratio) {
        cb(
          new LifeboatError(
            'ARCHIVE_TOO_LARGE',
            `The archive expands to more than ${ratio} times its size; refused as a possible decompression bomb`,
          ),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    extract.destroy(error as Error);
  };
  input.on('error', fail);
  countIn.on('error', fail);
  gunzip.on('error', fail);
  cut?.on('error', fail);
  countOut.on('error', fail);
  const inflating = input.pipe(countIn).pipe(gunzip);
  (cut ? inflating.pipe(cut) : inflating)
    .pipe(countOut)
    .pipe(extract as unknown as NodeJS.WritableStream);
  const onAbort = () =>
    fail(new LifeboatError('ABORTED', undefined, { cause: options.signal?.reason }));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const seen = new Set<string>();
  let count = 0;
  try {
    for await (const raw of extract) {
      const header = raw.header;
      count++;
      const path = assertSafeEntryPath(header.name);
      if (seen.has(path)) {
        throw new LifeboatError('ENTRY_DUPLICATE', `The archive holds "${path}" twice`, {
          details: { path },
        });
      }
      seen.add(path);
      const section = path.split('/')[0]!;
      if (!path.includes('/') && !TOP_LEVEL_FILES.has(path) && header.type !== 'directory') {
        throw new LifeboatError('ENTRY_UNEXPECTED', `Unexpected top-level entry "${path}"`, {
          details: { path },
        });
      }
      let type: EntryType;
      if (header.type === 'file' || header.type === 'contiguous-file') type = 'file';
      else if (header.type === 'directory') type = 'directory';
      else if (header.type === 'symlink') {
        type = 'symlink';
        assertSafeLink(path, header.linkname ?? '', section);
      } else {
        throw new LifeboatError(
          'UNSAFE_PATH',
          `Entry "${path}" is a ${header.type}, which is never restored`,
          {
            details: { path },
          },
        );
      }
      const hash = options.hashEntries === false ? undefined : createHash('sha256');
      const out = new PassThrough({ highWaterMark: 256 * 1024 });
      let resolveDigest!: (d: string) => void;
      let rejectDigest!: (e: unknown) => void;
      const digest = new Promise<string>((res, rej) => {
        resolveDigest = res;
        rejectDigest = rej;
      });
      digest.catch(() => {});
      const pump = (async () => {
        try {
          for await (const chunk of raw as AsyncIterable<Buffer>) {
            hash?.update(chunk);
            if (!out.write(chunk)) {
              await new Promise<void>((res) => {
                const done = () => {
                  out.off('drain', done);
                  out.off('close', done);
                  res();
                };
                out.on('drain', done);
                out.on('close', done);
              });
            }
          }
          resolveDigest(hash ? hash.digest('hex') : '');
          out.end();
        } catch (error) {
          const classified = classifyReadError(failure ?? error);
          rejectDigest(classified);
          out.destroy(classified);
          throw classified;
        }
      })();
      pump.catch(() => {});
      yield {
        path,
        type,
        size: header.size ?? 0,
        mode: header.mode ?? 0o644,
        mtime: header.mtime ?? new Date(0),
        ...(header.linkname ? { linkname: header.linkname } : {}),
        stream: out,
        digest,
      };
      // Drain whatever the consumer left unread so the next entry can be parsed.
      if (!out.readableEnded && !out.destroyed) out.resume();
      await pump;
    }
    if (failure) throw failure;
    if (count === 0 && compressed === 0) {
      throw new LifeboatError('ARCHIVE_TRUNCATED', 'The archive is empty');
    }
  } catch (error) {
    throw classifyReadError(failure ?? error);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    input.unpipe();
    if (!input.destroyed) input.destroy();
  }
}
