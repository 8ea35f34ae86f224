import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createEngine, memoryStorage, type Storage } from '@lifeboat/core';
import { fileSource } from '@lifeboat/test-support/sources';
import tar from 'tar-stream';

export { fileSource };

export interface RawEntry {
  name: string;
  body?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

/** Builds a .tar.gz in memory from raw entries, bypassing every check of the writer. */
export async function rawArchive(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) },
        e.body ?? '',
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A manifest for raw entries, as the engine would write it. */
export function manifestFor(entries: RawEntry[], overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    format: 'lifeboat-archive',
    formatVersion: 1,
    tool: { name: 'lifeboat', version: 'test' },
    createdAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    compression: { algorithm: 'gzip', level: 6 },
    sources: [{ id: 'test', section: 'config', summary: {} }],
    entries: entries.map((e) => ({
      path: e.name,
      type: e.type ?? 'file',
      size: Buffer.byteLength(e.body ?? ''),
      ...((e.type ?? 'file') === 'file' ? { sha256: sha256(e.body ?? '') } : {}),
      ...(e.linkname ? { linkname: e.linkname } : {}),
    })),
    warnings: [],
    ...overrides,
  });
}

export async function storeRaw(storage: Storage, file: string, bytes: Buffer) {
  await storage.connect();
  await storage.put(file, bytes);
}

export function engineWith(
  files: Record<string, string | Buffer>,
  storage: Storage = memoryStorage(),
) {
  const { source, restored } = fileSource(files);
  return { engine: createEngine({ sources: [source], storage }), storage, restored };
}
