import { Readable, Transform } from 'node:stream';
import type { Storage } from '../contracts.js';
import { LifeboatError } from '../errors.js';

export type StorageOp = 'connect' | 'put' | 'get' | 'stat' | 'list' | 'delete' | 'freeSpace';

export interface FaultOptions {
  /** Only keys this accepts are affected (default: every key). `connect` and `freeSpace` have key ''. */
  match?: (key: string) => boolean;
  /** A put fails at once. */
  failPut?: boolean;
  /** A put fails once this many bytes of its body went through (the storage saw a half write). */
  failPutAfterBytes?: number;
  /** A get fails at once. */
  failGet?: boolean;
  /** A get's stream fails once it yielded this many bytes. */
  failGetAfterBytes?: number;
  failStat?: boolean;
  failList?: boolean;
  failDelete?: boolean;
  failConnect?: boolean;
  failFreeSpace?: boolean;
  /** Only the first `times` faults are injected; later operations succeed (default: all fail). */
  times?: number;
  /** The error to inject (default: a retryable STORAGE_FAILED). */
  error?: (op: StorageOp, key: string) => Error;
}

export interface FaultyStorage extends Storage {
  /** Faults injected so far, in order. */
  readonly injected: { op: StorageOp; key: string }[];
  /** Changes the faults from now on. */
  setFaults(options: FaultOptions): void;
}

const defaultError = (op: StorageOp, key: string) =>
  new LifeboatError('STORAGE_FAILED', `Injected fault: ${op} ${key || '(storage)'} failed`, {
    retryable: true,
  });

/**
 * Passes the first `limit` bytes on, then fails with `fail()`: the bytes up to the limit are
 * handed on first, so the other side sees a real half write (or half read). `after` runs once the
 * failure is passed on (the reading side's source is closed).
 */
function failAfter(limit: number, fail: () => Error, after?: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (seen + chunk.length > limit) {
        const head = chunk.subarray(0, Math.max(0, limit - seen));
        seen = limit;
        if (head.length > 0) this.push(head);
        callback(fail());
        after?.();
        return;
      }
      seen += chunk.length;
      callback(null, chunk);
    },
  });
}

/**
 * A test decorator that makes a real storage fail on purpose: at once, or in the middle of a
 * streamed put or get. Used by the fault-injection tests of every package; never in production.
 */
export function faultyStorage(inner: Storage, initial: FaultOptions = {}): FaultyStorage {
  let options = initial;
  const injected: { op: StorageOp; key: string }[] = [];
  const fires = (key: string, enabled: boolean | undefined) => {
    if (!enabled) return false;
    if (options.match && !options.match(key)) return false;
    return options.times === undefined || injected.length < options.times;
  };
  const inject = (op: StorageOp, key: string): Error => {
    injected.push({ op, key });
    return (options.error ?? defaultError)(op, key);
  };
  const guard = async <T>(
    op: StorageOp,
    key: string,
    enabled: boolean | undefined,
    fn: () => Promise<T>,
  ) => {
    if (fires(key, enabled)) throw inject(op, key);
    return fn();
  };

  const storage: FaultyStorage = {
    id: inner.id,
    capabilities: inner.capabilities,
    injected,
    setFaults(next) {
      options = next;
    },
    describe: () => inner.describe(),
    connect: (o) => guard('connect', '', options.failConnect, () => inner.connect(o)),
    close: () => inner.close(),
    async put(key, body, o) {
      if (fires(key, options.failPut)) {
        if (!(body instanceof Uint8Array)) (body as Readable).destroy();
        throw inject('put', key);
      }
      const limit = options.failPutAfterBytes;
      if (limit === undefined || !fires(key, true)) return inner.put(key, body, o);
      const source =
        body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : (body as Readable);
      let fault: Error | undefined;
      const counter = failAfter(limit, () => {
        fault = inject('put', key);
        return fault;
      });
      source.on('error', (e) => counter.destroy(e));
      source.pipe(counter);
      try {
        const stored = await inner.put(key, counter, o);
        if (fault) throw fault;
        return stored;
      } catch (error) {
        source.destroy();
        throw fault ?? error;
      }
    },
    async get(key, o) {
      if (fires(key, options.failGet)) throw inject('get', key);
      const stream = await inner.get(key, o);
      const limit = options.failGetAfterBytes;
      if (limit === undefined || !fires(key, true)) return stream;
      const counter = failAfter(
        limit,
        () => inject('get', key),
        () => stream.destroy(),
      );
      stream.on('error', (e) => counter.destroy(e));
      return stream.pipe(counter);
    },
    stat: (key, o) => guard('stat', key, options.failStat, () => inner.stat(key, o)),
    list: (prefix, o) => guard('list', prefix ?? '', options.failList, () => inner.list(prefix, o)),
    delete: (key, o) => guard('delete', key, options.failDelete, () => inner.delete(key, o)),
  };
  if (inner.freeSpace) {
    const freeSpace = inner.freeSpace.bind(inner);
    storage.freeSpace = () => guard('freeSpace', '', options.failFreeSpace, freeSpace);
  }
  return storage;
}
