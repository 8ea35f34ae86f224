import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, memoryStorage } from '@lifeboat/core';
import { afterAll } from 'vitest';
import type { PostgresSourceOptions } from '../../src/index.js';
import { sourceFor, type TestServer } from './servers.js';

export function engineFor(
  server: TestServer,
  database: string,
  extra: Partial<PostgresSourceOptions> = {},
) {
  const storage = memoryStorage();
  const source = sourceFor(server, database, extra);
  const engine = createEngine({ sources: [source], storage, pruneAfterBackup: false });
  return { engine, storage, source };
}

export async function archiveKeys(storage: ReturnType<typeof memoryStorage>): Promise<string[]> {
  return (await storage.list()).map((o) => o.key).filter((k) => k.endsWith('.tar.gz'));
}

const extracted: string[] = [];
afterAll(async () => {
  for (const dir of extracted.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Writes the stored archive to disk and extracts it with tar: the folder restore.psql runs from. */
export async function extractArchive(storage: ReturnType<typeof memoryStorage>): Promise<string> {
  const [key] = await archiveKeys(storage);
  if (!key) throw new Error('no archive stored');
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-pg-archive-'));
  extracted.push(dir);
  const file = join(dir, key);
  await writeFile(file, Buffer.concat(chunks));
  const out = join(dir, 'restore');
  execFileSync('mkdir', ['-p', out]);
  execFileSync('tar', ['-xzf', file, '-C', out]);
  return out;
}
