import { Transform } from 'node:stream';
import type { Storage } from '../contracts.js';

export interface ReadCounts {
  /** Bytes read from each key through get. */
  bytes: Map<string, number>;
  /** Every get of a key, with its range if it had one. */
  gets: { key: string; range?: { start: number; end: number } }[];
}

/** Wraps a storage and counts the bytes each get yields (what a partial read saves is this). */
export function countingStorage(inner: Storage): Storage & { reads: ReadCounts } {
  const reads: ReadCounts = { bytes: new Map(), gets: [] };
  return {
    ...inner,
    id: inner.id,
    capabilities: inner.capabilities,
    describe: () => inner.describe(),
    connect: (o) => inner.connect(o),
    close: () => inner.close(),
    put: (key, body, o) => inner.put(key, body, o),
    stat: (key, o) => inner.stat(key, o),
    list: (prefix, o) => inner.list(prefix, o),
    delete: (key, o) => inner.delete(key, o),
    async get(key, o) {
      reads.gets.push({ key, ...(o?.range ? { range: { ...o.range } } : {}) });
      const stream = await inner.get(key, o);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          reads.bytes.set(key, (reads.bytes.get(key) ?? 0) + chunk.length);
          callback(null, chunk);
        },
      });
      stream.on('error', (e) => counter.destroy(e));
      counter.on('close', () => stream.destroy());
      return stream.pipe(counter);
    },
    reads,
  };
}
