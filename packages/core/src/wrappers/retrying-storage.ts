import type { Readable } from 'node:stream';
import type { Storage, StoredObject } from '../contracts.js';
import { isLifeboatError } from '../errors.js';
import { abortableSleep, jitteredBackoff } from '../timing.js';

export interface RetryingStorageOptions {
  /** Tries per operation, the first included (default 3). */
  attempts?: number;
  /** Delay before the second try; it doubles per try, with jitter (default 200 ms). */
  baseDelayMs?: number;
  /** Upper bound of one delay (default 10 s). */
  maxDelayMs?: number;
  /** Told about each retry (to log it). */
  onRetry?: (info: {
    op: string;
    key?: string;
    attempt: number;
    delayMs: number;
    error: unknown;
  }) => void;
}

/** Only errors the storage marked retryable are tried again; never a decision (exists, missing, aborted). */
const NEVER_RETRIED = new Set([
  'ALREADY_EXISTS',
  'NOT_FOUND',
  'ABORTED',
  'UNSAFE_PATH',
  'CONFIG_INVALID',
]);
export const isRetryable = (error: unknown): boolean =>
  isLifeboatError(error) && error.retryable && !NEVER_RETRIED.has(error.code);

/** The object at `key` when it holds exactly `bytes`; undefined when it holds anything else. */
async function holding(
  storage: Storage,
  key: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<StoredObject | undefined> {
  const options = signal ? { signal } : {};
  const stored = await storage.stat(key, options);
  if (stored.bytes !== bytes.byteLength) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key, options)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).equals(bytes) ? stored : undefined;
}

/**
 * A storage decorator (as restic wraps its backends) that tries an operation again when the
 * storage failed with a retryable error: connect, get, stat, list, delete, freeSpace, and a put
 * whose body is bytes. A put of a stream is not retried (the stream cannot be read twice): the
 * caller retries the whole backup. An exclusive put whose retry finds the key holding its own
 * bytes succeeded (its failed try was written after all). A decision (ALREADY_EXISTS, NOT_FOUND,
 * PERMISSION_DENIED, ...) and an abort are never retried; an abort ends the wait between tries.
 * The last error is thrown unchanged.
 */
export function retryingStorage<S extends Storage>(
  inner: S,
  options: RetryingStorageOptions = {},
): Storage {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 3));
  const base = Math.max(0, options.baseDelayMs ?? 200);
  const max = Math.max(base, options.maxDelayMs ?? 10_000);
  const retry = async <T>(
    op: string,
    key: string | undefined,
    fn: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= attempts || !isRetryable(error) || signal?.aborted) throw error;
        const delayMs = jitteredBackoff(attempt, base, max);
        options.onRetry?.({ op, ...(key !== undefined ? { key } : {}), attempt, delayMs, error });
        await abortableSleep(delayMs, signal);
      }
    }
  };
  const wrapped: Storage = {
    id: inner.id,
    capabilities: inner.capabilities,
    describe: () => inner.describe(),
    connect: (o) => retry('connect', undefined, () => inner.connect(o), o?.signal),
    close: () => inner.close(),
    put(key, body, o) {
      if (!(body instanceof Uint8Array)) return inner.put(key, body as Readable, o);
      if (o?.overwrite) return retry('put', key, () => inner.put(key, body, o), o?.signal);
      // An exclusive put that failed may have been written all the same (a write that timed
      // out and completed late, an S3 answer lost on the way back): its retry then finds the
      // key. It is this put's own object when it holds these bytes; anything else is a real
      // ALREADY_EXISTS (the lock of another run).
      let failedOnce = false;
      return retry(
        'put',
        key,
        async () => {
          try {
            return await inner.put(key, body, o);
          } catch (error) {
            if (failedOnce && isLifeboatError(error) && error.code === 'ALREADY_EXISTS') {
              const own = await holding(inner, key, body, o?.signal);
              if (own) return own;
            }
            failedOnce = true;
            throw error;
          }
        },
        o?.signal,
      );
    },
    get: (key, o) => retry('get', key, () => inner.get(key, o), o?.signal),
    stat: (key, o) => retry('stat', key, () => inner.stat(key, o), o?.signal),
    list: (prefix, o) => retry('list', prefix, () => inner.list(prefix, o), o?.signal),
    delete: (key, o) => retry('delete', key, () => inner.delete(key, o), o?.signal),
  };
  if (inner.freeSpace) {
    const freeSpace = inner.freeSpace.bind(inner);
    wrapped.freeSpace = () => retry('freeSpace', undefined, freeSpace);
  }
  return wrapped;
}
