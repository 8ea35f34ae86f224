import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEngine,
  type EntryInput,
  isLifeboatError,
  memoryStorage,
  type Source,
} from '@lifeboat/core';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let work: string;
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cfg-safety-'));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/**
 * Writes an archive whose config/ section holds exactly these entries, as a hostile or foreign
 * archive could (Lifeboat's own backup never archives a link that leaves its folder).
 */
async function archiveOf(entries: EntryInput[]) {
  const storage = memoryStorage();
  const crafted = {
    id: 'config-files',
    section: 'config',
    describe: () => 'crafted',
    async connect() {},
    async close() {},
    async backup(ctx) {
      for (const e of entries) await ctx.emit(e);
      return {};
    },
    async restore() {
      return {};
    },
  } satisfies Source;
  const { id } = await createEngine({ sources: [crafted], storage }).backup();
  return { storage, id };
}

const text = (s: string): EntryInput => ({
  path: '',
  type: 'file',
  size: s.length,
  body: Buffer.from(s),
});
const file = (path: string, body: string, mode = 0o644): EntryInput => ({
  ...text(body),
  path,
  mode,
});

const tree = async (dir: string): Promise<string[]> =>
  (await fs.readdir(dir, { recursive: true })).map(String).sort();

describe('config restore stays inside what it restores', () => {
  it('refuses a link in ssl/ that points out of ssl/ (though inside config/), writing nothing', async () => {
    const live = join(work, 'live');
    await fs.mkdir(join(live, 'ssl'), { recursive: true });
    await fs.writeFile(join(live, '.env.production'), 'LIVE=1\n');
    const { storage, id } = await archiveOf([
      file('.env.production', 'OLD=1\n'),
      { path: 'ssl', type: 'directory', mode: 0o755 },
      { path: 'ssl/stolen', type: 'symlink', linkname: '../.env.production' },
    ]);
    const restorer = createEngine({
      sources: [
        configFilesSource({
          files: [join(live, '.env.production')],
          directories: [{ path: join(live, 'ssl'), name: 'ssl' }],
        }),
      ],
      storage,
    });
    for (const into of [undefined, join(work, 'elsewhere')]) {
      const error = await restorer
        .restore(id, { 'config-files': { overwrite: true, ...(into ? { targetDir: into } : {}) } })
        .catch((e) => e);
      expect(isLifeboatError(error, 'UNSAFE_PATH'), String(error)).toBe(true);
      expect(error.message).toContain('ssl/stolen');
    }
    expect(await tree(live)).toEqual(['.env.production', 'ssl']);
    expect(await fs.readFile(join(live, '.env.production'), 'utf8')).toBe('LIVE=1\n');
    await expect(fs.stat(join(work, 'elsewhere'))).rejects.toThrow();
  });

  it('never writes through a folder that is a link inside the restored folder', async () => {
    const live = join(work, 'ssl');
    const outside = join(work, 'outside');
    await fs.mkdir(live);
    await fs.mkdir(outside);
    await fs.symlink(outside, join(live, 'certs'));
    const { storage, id } = await archiveOf([
      { path: 'ssl', type: 'directory', mode: 0o755 },
      { path: 'ssl/certs', type: 'directory', mode: 0o755 },
      file('ssl/certs/cert.pem', 'CERT\n'),
    ]);
    const restorer = createEngine({
      sources: [configFilesSource({ directories: [{ path: live, name: 'ssl' }] })],
      storage,
    });
    const error = await restorer
      .restore(id, { 'config-files': { overwrite: true } })
      .catch((e) => e);
    expect(isLifeboatError(error, 'UNSAFE_PATH'), String(error)).toBe(true);
    expect(error.message).toContain(join(live, 'certs'));
    expect(await fs.readdir(outside)).toEqual([]);
    expect((await fs.lstat(join(live, 'certs'))).isSymbolicLink()).toBe(true);
  });

  it('drops setuid, setgid and sticky bits', async () => {
    const { storage, id } = await archiveOf([
      { path: 'bin', type: 'directory', mode: 0o3777 },
      file('bin/tool', '#!/bin/sh\n', 0o6755),
    ]);
    const out = join(work, 'out');
    const restorer = createEngine({
      sources: [configFilesSource({ directories: [{ path: join(work, 'bin'), name: 'bin' }] })],
      storage,
    });
    await restorer.restore(id, { 'config-files': { targetDir: out } });
    expect((await fs.stat(join(out, 'bin', 'tool'))).mode & 0o7777).toBe(0o755);
    expect((await fs.stat(join(out, 'bin'))).mode & 0o7777).toBe(0o777);
  });

  it('replaces a live file on another filesystem (tmpfs) than the working folder', async () => {
    const shm = await fs.mkdtemp('/dev/shm/lifeboat-cfg-').catch(() => undefined);
    if (!shm) return; // no tmpfs here: nothing to cross
    try {
      const live = join(shm, 'nginx.prod.conf');
      await fs.writeFile(live, 'live\n');
      const { storage, id } = await archiveOf([file('nginx.prod.conf', 'archived\n')]);
      const restorer = createEngine({ sources: [configFilesSource({ files: [live] })], storage });
      const cwd = process.cwd();
      process.chdir(work); // another filesystem than /dev/shm
      try {
        await restorer.restore(id, { 'config-files': { overwrite: true } });
      } finally {
        process.chdir(cwd);
      }
      expect(await fs.readFile(live, 'utf8')).toBe('archived\n');
      expect(await fs.readFile(`${live}.bak`, 'utf8')).toBe('live\n');
      expect((await fs.readdir(shm)).sort()).toEqual(['nginx.prod.conf', 'nginx.prod.conf.bak']);
      expect(await fs.readdir(work)).toEqual([]);
    } finally {
      await fs.rm(shm, { recursive: true, force: true });
    }
  });

  it('keeps an older NAME.bak when it makes a new one', async () => {
    const live = join(work, 'app.conf');
    await fs.writeFile(live, 'live\n');
    await fs.writeFile(`${live}.bak`, 'older\n');
    const { storage, id } = await archiveOf([file('app.conf', 'archived\n')]);
    const restorer = createEngine({ sources: [configFilesSource({ files: [live] })], storage });
    await restorer.restore(id, { 'config-files': { overwrite: true } });
    expect(await fs.readFile(live, 'utf8')).toBe('archived\n');
    expect(await fs.readFile(`${live}.bak`, 'utf8')).toBe('older\n');
    expect(await fs.readFile(`${live}.bak.1`, 'utf8')).toBe('live\n');
  });
});
