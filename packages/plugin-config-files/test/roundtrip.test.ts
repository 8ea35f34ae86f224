import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, LifeboatError, memoryStorage } from '@lifeboat/core';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let work: string;
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cfg-'));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function makeTree() {
  const app = join(work, 'app');
  await fs.mkdir(join(app, 'ssl', 'nested', 'déjà vu'), { recursive: true });
  await fs.writeFile(join(app, '.env.production'), 'DATABASE_URL=postgres://u:pw@db/x\n', {
    mode: 0o600,
  });
  await fs.writeFile(join(app, 'docker-compose.prod.yml'), 'services: {}\n', { mode: 0o644 });
  await fs.writeFile(join(app, 'nginx.prod.conf'), 'server {}\n');
  const binary = randomBytes(300_000);
  binary[10] = 0;
  await fs.writeFile(join(app, 'ssl', 'cert.der'), binary, { mode: 0o644 });
  await fs.writeFile(join(app, 'ssl', 'privkey.pem'), '-----BEGIN PRIVATE KEY-----\nx\n', {
    mode: 0o600,
  });
  await fs.writeFile(join(app, 'ssl', 'empty.txt'), '');
  await fs.writeFile(join(app, 'ssl', 'nested', 'déjà vu', 'ünïcødé 名前.txt'), 'unicode\n');
  await fs.writeFile(join(app, 'ssl', 'renew.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.symlink('privkey.pem', join(app, 'ssl', 'current.pem'));
  await fs.symlink('/etc/passwd', join(app, 'ssl', 'outside-link'));
  const old = new Date('2024-02-03T04:05:06Z');
  await fs.utimes(join(app, 'nginx.prod.conf'), old, old);
  return { app, binary, old };
}

const sourceFor = (app: string) =>
  configFilesSource({
    files: [
      join(app, '.env.production'),
      join(app, 'docker-compose.prod.yml'),
      join(app, 'nginx.prod.conf'),
    ],
    directories: [{ path: join(app, 'ssl'), name: 'ssl' }],
  });

describe('config files', () => {
  it('round-trips files and a folder tree with modes, times, binary, empty, unicode and a link', async () => {
    const { app, binary, old } = await makeTree();
    const engine = createEngine({ sources: [sourceFor(app)], storage: memoryStorage() });
    const warnings: string[] = [];
    engine.events.on('warning', (w) => warnings.push(w.code));
    const result = await engine.backup();
    expect(result.file).toMatch(/^critical_backup_\d{8}_\d{6}\.tar\.gz$/);
    expect(warnings).toContain('SYMLINK_OUTSIDE');
    expect((await engine.verify(result.id)).ok).toBe(true);

    const out = join(work, 'restored');
    await engine.restore(result.id, { only: 'config', 'config-files': { targetDir: out } });
    expect(await fs.readFile(join(out, '.env.production'), 'utf8')).toContain('DATABASE_URL');
    expect((await fs.stat(join(out, '.env.production'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(out, 'docker-compose.prod.yml'))).mode & 0o777).toBe(0o644);
    expect((await fs.stat(join(out, 'ssl', 'renew.sh'))).mode & 0o777).toBe(0o755);
    expect((await fs.stat(join(out, 'ssl', 'privkey.pem'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(out, 'nginx.prod.conf'))).mtime.getTime()).toBe(old.getTime());
    expect(await fs.readFile(join(out, 'ssl', 'cert.der'))).toEqual(binary);
    expect((await fs.stat(join(out, 'ssl', 'empty.txt'))).size).toBe(0);
    expect(
      await fs.readFile(join(out, 'ssl', 'nested', 'déjà vu', 'ünïcødé 名前.txt'), 'utf8'),
    ).toBe('unicode\n');
    expect(await fs.readlink(join(out, 'ssl', 'current.pem'))).toBe('privkey.pem');
    await expect(fs.lstat(join(out, 'ssl', 'outside-link'))).rejects.toThrow();
    // No staging folder is left behind.
    expect((await fs.readdir(out)).filter((n) => n.startsWith('.lifeboat'))).toEqual([]);
  });

  it('refuses to overwrite existing files unless asked, then keeps NAME.bak', async () => {
    const { app } = await makeTree();
    const engine = createEngine({ sources: [sourceFor(app)], storage: memoryStorage() });
    const { id } = await engine.backup();
    const out = join(work, 'restored');
    await fs.mkdir(out);
    await fs.writeFile(join(out, 'nginx.prod.conf'), 'live version\n');
    const error = await engine
      .restore(id, { only: 'config', 'config-files': { targetDir: out } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LifeboatError);
    expect(error.code).toBe('FILE_EXISTS');
    expect(error.message).toContain('nginx.prod.conf');
    // Nothing was written: the live file is untouched and no other file appeared.
    expect(await fs.readFile(join(out, 'nginx.prod.conf'), 'utf8')).toBe('live version\n');
    expect((await fs.readdir(out)).sort()).toEqual(['nginx.prod.conf']);

    await engine.restore(id, {
      only: 'config',
      'config-files': { targetDir: out, overwrite: true },
    });
    expect(await fs.readFile(join(out, 'nginx.prod.conf'), 'utf8')).toBe('server {}\n');
    expect(await fs.readFile(join(out, 'nginx.prod.conf.bak'), 'utf8')).toBe('live version\n');
  });

  it('fails the backup for a missing file with a clear error, unless it is optional', async () => {
    const { app } = await makeTree();
    const storage = memoryStorage();
    const missing = join(app, 'missing.env');
    const engine = createEngine({ sources: [configFilesSource({ files: [missing] })], storage });
    const error = await engine.backup().catch((e) => e);
    expect(error.code).toBe('FILE_MISSING');
    expect(error.message).toContain(missing);
    expect(await engine.list()).toEqual([]);

    const optional = createEngine({
      sources: [
        configFilesSource({
          files: [{ path: missing, optional: true }, join(app, 'nginx.prod.conf')],
        }),
      ],
      storage,
    });
    const warnings: string[] = [];
    optional.events.on('warning', (w) => warnings.push(w.code));
    const result = await optional.backup();
    expect(warnings).toEqual(['FILE_MISSING']);
    expect(result.files).toBe(1);
  });

  it('refuses two files that would share one archive name', () => {
    expect(() => configFilesSource({ files: ['/a/x.conf', '/b/x.conf'] })).toThrow(
      /both be archived as config\/x.conf/,
    );
  });

  it('restores into the configured places when no folder is given', async () => {
    const { app } = await makeTree();
    const engine = createEngine({ sources: [sourceFor(app)], storage: memoryStorage() });
    const { id } = await engine.backup();
    await fs.rm(join(app, 'nginx.prod.conf'));
    await fs.rm(join(app, 'ssl'), { recursive: true });
    await fs.writeFile(join(app, '.env.production'), 'changed\n');
    await engine.restore(id, { only: 'config', 'config-files': { overwrite: true } });
    expect(await fs.readFile(join(app, 'nginx.prod.conf'), 'utf8')).toBe('server {}\n');
    expect(await fs.readFile(join(app, '.env.production.bak'), 'utf8')).toBe('changed\n');
    expect(await fs.readlink(join(app, 'ssl', 'current.pem'))).toBe('privkey.pem');
  });
});
