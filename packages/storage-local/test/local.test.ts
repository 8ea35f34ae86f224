import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createEngine, type Source } from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let parent: string;
beforeEach(async () => {
  parent = await fs.mkdtemp(join(tmpdir(), 'lifeboat-local-'));
});
afterEach(async () => {
  await fs.rm(parent, { recursive: true, force: true });
});

const tinySource = (files: Record<string, string>): Source => ({
  id: 'tiny',
  section: 'config',
  describe: () => 'tiny',
  async connect() {},
  async close() {},
  async backup(ctx) {
    for (const [path, text] of Object.entries(files)) {
      const data = Buffer.from(text);
      await ctx.emit({ path, type: 'file', size: data.length, body: () => Readable.from([data]) });
    }
    return { files: [] };
  },
  async restore() {
    return {};
  },
});

describe('local storage', () => {
  it('creates archives 0600 inside a 0700 folder', async () => {
    const dir = join(parent, 'backups');
    const engine = createEngine({
      sources: [tinySource({ a: 'x' })],
      storage: localStorage({ dir }),
    });
    const { file } = await engine.backup();
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(join(dir, file))).mode & 0o777).toBe(0o600);
    for (const name of await fs.readdir(join(dir, '.lifeboat', 'history'))) {
      expect((await fs.stat(join(dir, '.lifeboat', 'history', name))).mode & 0o777).toBe(0o600);
    }
  });

  it('warns when the folder is readable by others', async () => {
    const dir = join(parent, 'open');
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    const warnings: string[] = [];
    const storage = localStorage({ dir, onWarning: (code) => warnings.push(code) });
    await storage.connect();
    expect(warnings).toContain('STORAGE_READABLE_BY_OTHERS');
  });

  it('refuses keys that would leave the folder', async () => {
    const storage = localStorage({ dir: join(parent, 'b') });
    await storage.connect();
    await expect(storage.put('../escape', Buffer.from('x'))).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
    await expect(storage.get('/etc/passwd')).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(fs.stat(join(parent, 'escape'))).rejects.toThrow();
  });

  it('says NOT_FOUND-free clear errors when the folder cannot be created', async () => {
    await fs.writeFile(join(parent, 'file'), 'not a folder');
    const storage = localStorage({ dir: join(parent, 'file', 'backups') });
    const error = await storage.connect().catch((e) => e);
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.message).toContain(join(parent, 'file', 'backups'));
  });

  it('survives a SIGKILL mid-write: no complete-looking archive, earlier ones intact, next run cleans up', async () => {
    const dir = join(parent, 'backups');
    // An earlier good archive.
    const engine = createEngine({
      sources: [tinySource({ a: 'earlier' })],
      storage: localStorage({ dir }),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    const earlier = await engine.backup();
    const earlierBytes = await fs.readFile(join(dir, earlier.file));

    const script = fileURLToPath(new URL('./fixtures/slow-backup.mjs', import.meta.url));
    const child = spawn(process.execPath, [script, dir, '400'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    // Wait until the temporary file has real bytes in it, then kill -9.
    const deadline = Date.now() + 30_000;
    let temp: string | undefined;
    while (Date.now() < deadline) {
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      temp = names.find((n) => n.startsWith('.lifeboat-tmp.'));
      if (
        temp &&
        (await fs.stat(join(dir, temp)).then(
          (s) => s.size > 64 * 1024,
          () => false,
        ))
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(temp, `child output: ${out}`).toBeDefined();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(out).not.toContain('done');

    const names = await fs.readdir(dir);
    expect(names.filter((n) => n.includes('.tar.gz') && !n.endsWith('.partial'))).toEqual([
      earlier.file,
    ]);
    expect(temp).toMatch(/\.partial$/);
    expect(await fs.readFile(join(dir, earlier.file))).toEqual(earlierBytes);
    expect(names).toContain(temp);
    // The killed run's lock is recognised as stale, its temporary file is never listed and is cleaned.
    const next = createEngine({
      sources: [tinySource({ a: 'next' })],
      storage: localStorage({ dir }),
      retention: { keepLast: 10 },
    });
    expect((await next.list()).map((a) => a.file)).toEqual([earlier.file]);
    const result = await next.backup();
    const after = await fs.readdir(dir);
    expect(after.filter((n) => n.startsWith('.lifeboat-tmp.'))).toEqual([]);
    expect(after.filter((n) => n.endsWith('.tar.gz')).sort()).toEqual(
      [earlier.file, result.file].sort(),
    );
    expect((await next.verify(earlier.id)).ok).toBe(true);
  });
});
