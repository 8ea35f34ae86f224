import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createEngine, memoryStorage, type Source, type Storage } from '@lifeboat/core';
import tar from 'tar-stream';

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

/** A source that emits the files it is given and records what a restore hands it. */
export function fileSource(files: Record<string, string | Buffer>, section = 'config') {
  const restored: Record<string, Buffer> = {};
  const source = {
    id: 'test',
    section,
    describe: () => 'test files',
    async connect() {},
    async close() {},
    async backup(ctx) {
      for (const [path, body] of Object.entries(files)) {
        const data = Buffer.from(body);
        await ctx.emit({
          path,
          type: 'file',
          size: data.length,
          body: () => Readable.from([data]),
        });
      }
      return { files: Object.keys(files).map((p) => ({ path: `${section}/${p}` })) };
    },
    async restore(ctx) {
      for await (const entry of ctx.entries) {
        const chunks: Buffer[] = [];
        for await (const c of entry.stream as AsyncIterable<Buffer>) chunks.push(c);
        restored[entry.relativePath] = Buffer.concat(chunks);
      }
      return { restored: Object.keys(restored).length };
    },
  } satisfies Source;
  return { source, restored };
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
