import { Readable } from 'node:stream';
import type { Storage, StoredObject } from './contracts.js';
import { LifeboatError, throwIfAborted } from './errors.js';

/** A storage held in memory, for unit tests and dry runs. Same contract as the real ones. */
export function memoryStorage(options: { freeBytes?: number } = {}) {
  const objects = new Map<string, { data: Buffer; modifiedAt: Date }>();
  const info = (key: string, o: { data: Buffer; modifiedAt: Date }): StoredObject => ({
    key,
    bytes: o.data.length,
    modifiedAt: o.modifiedAt,
  });
  return {
    id: 'memory',
    capabilities: { freeSpace: options.freeBytes !== undefined, exclusiveCreate: true },
    describe: () => 'memory',
    async connect() {},
    async close() {},
    async put(key, body, putOptions = {}) {
      throwIfAborted(putOptions.signal);
      if (!putOptions.overwrite && objects.has(key)) {
        if (!(body instanceof Uint8Array)) (body as Readable).destroy();
        throw new LifeboatError('ALREADY_EXISTS', `"${key}" exists`);
      }
      let data: Buffer;
      if (body instanceof Uint8Array) data = Buffer.from(body);
      else {
        const chunks: Buffer[] = [];
        // The signal ends the put even while the body stalls (neither data nor end nor error).
        const stop = () => (body as Readable).destroy();
        putOptions.signal?.addEventListener('abort', stop, { once: true });
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            throwIfAborted(putOptions.signal);
            chunks.push(chunk);
          }
        } catch (error) {
          throwIfAborted(putOptions.signal);
          throw error;
        } finally {
          putOptions.signal?.removeEventListener('abort', stop);
        }
        throwIfAborted(putOptions.signal);
        data = Buffer.concat(chunks);
      }
      // Re-check after the (async) upload: the exclusive create must hold under a race too.
      if (!putOptions.overwrite && objects.has(key))
        throw new LifeboatError('ALREADY_EXISTS', `"${key}" exists`);
      const entry = { data, modifiedAt: new Date() };
      objects.set(key, entry);
      return info(key, entry);
    },
    async get(key, getOptions = {}) {
      const o = objects.get(key);
      if (!o) throw new LifeboatError('NOT_FOUND', `"${key}" does not exist`);
      const range = getOptions.range;
      return Readable.from([range ? o.data.subarray(range.start, range.end) : o.data]);
    },
    async stat(key, callOptions = {}) {
      throwIfAborted(callOptions.signal);
      const o = objects.get(key);
      if (!o) throw new LifeboatError('NOT_FOUND', `"${key}" does not exist`);
      return info(key, o);
    },
    async list(prefix = '', callOptions = {}) {
      throwIfAborted(callOptions.signal);
      return [...objects].filter(([k]) => k.startsWith(prefix)).map(([k, o]) => info(k, o));
    },
    async delete(key, callOptions = {}) {
      throwIfAborted(callOptions.signal);
      objects.delete(key);
    },
    ...(options.freeBytes !== undefined
      ? {
          freeSpace: async () => ({
            freeBytes: options.freeBytes!,
            totalBytes: options.freeBytes! * 2,
          }),
        }
      : {}),
  } satisfies Storage;
}
