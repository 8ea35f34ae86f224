import './errors.js';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type BackupContext, LifeboatError, throwIfAborted } from '@lifeboat/core';
import type { NamedPath } from './options.js';

export interface ConfigSummary extends Record<string, unknown> {
  files: { path: string; source: string; size: number; mode: number }[];
  directories: { path: string; source: string; entries: number }[];
  skipped: { path: string; reason: string }[];
}

const permissionError = (error: unknown, path: string) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new LifeboatError('FILE_MISSING', `Config file ${path} does not exist`, {
      cause: error,
    });
  if (code === 'EACCES' || code === 'EPERM') {
    return new LifeboatError('PERMISSION_DENIED', `Cannot read ${path}: permission denied`, {
      cause: error,
    });
  }
  return new LifeboatError('SOURCE_FAILED', `Cannot read ${path}: ${(error as Error).message}`, {
    cause: error,
  });
};

async function emitFile(
  ctx: BackupContext,
  archivePath: string,
  source: string,
  follow: boolean,
  summary: ConfigSummary,
) {
  const st = follow ? await fs.stat(source) : await fs.lstat(source);
  await ctx.emit({
    path: archivePath,
    type: 'file',
    size: st.size,
    mode: st.mode & 0o7777,
    mtime: st.mtime,
    body: () => createReadStream(source, { highWaterMark: 256 * 1024 }),
  });
  summary.files.push({
    path: `config/${archivePath}`,
    source,
    size: st.size,
    mode: st.mode & 0o7777,
  });
  // Progress counts the source's bytes so far, as every source does (config files are few).
  ctx.progress({ item: source, bytes: summary.files.reduce((n, f) => n + f.size, 0) });
}

/** Walks a folder without following any symlink; links that leave the folder are skipped. */
async function emitTree(
  ctx: BackupContext,
  root: string,
  dir: string,
  name: string,
  summary: ConfigSummary,
): Promise<number> {
  let count = 0;
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  for (const entry of entries) {
    throwIfAborted(ctx.signal);
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join('/');
    const archivePath = `${name}/${rel}`;
    if (entry.isSymbolicLink()) {
      const target = await fs.readlink(full);
      const resolved = resolve(dir, target);
      if (target.startsWith('/') || !(resolved === root || resolved.startsWith(root + sep))) {
        summary.skipped.push({
          path: `config/${archivePath}`,
          reason: `link to ${target} leaves ${root}`,
        });
        ctx.warn(
          'SYMLINK_OUTSIDE',
          `Skipped ${full}: it links to ${target}, outside ${root}; links are never followed`,
        );
        continue;
      }
      const st = await fs.lstat(full);
      await ctx.emit({
        path: archivePath,
        type: 'symlink',
        linkname: target,
        mode: 0o777,
        mtime: st.mtime,
      });
      count++;
    } else if (entry.isDirectory()) {
      const st = await fs.stat(full);
      await ctx.emit({
        path: archivePath,
        type: 'directory',
        mode: st.mode & 0o7777,
        mtime: st.mtime,
      });
      count += 1 + (await emitTree(ctx, root, full, name, summary));
    } else if (entry.isFile()) {
      await emitFile(ctx, archivePath, full, false, summary);
      count++;
    } else {
      summary.skipped.push({
        path: `config/${archivePath}`,
        reason: 'not a regular file, folder or link',
      });
      ctx.warn(
        'SPECIAL_FILE_SKIPPED',
        `Skipped ${full}: sockets, pipes and devices are not backed up`,
      );
    }
  }
  return count;
}

export async function backupConfig(
  ctx: BackupContext,
  files: NamedPath[],
  directories: NamedPath[],
): Promise<ConfigSummary> {
  const summary: ConfigSummary = { files: [], directories: [], skipped: [] };
  for (const file of files) {
    throwIfAborted(ctx.signal);
    try {
      // A named file is followed when it is a link (Kubernetes mounts config maps as links).
      const st = await fs.stat(file.path);
      if (!st.isFile())
        throw new LifeboatError('CONFIG_INVALID', `${file.path} is not a regular file`);
      await emitFile(ctx, file.name, file.path, true, summary);
    } catch (error) {
      const e = error instanceof LifeboatError ? error : permissionError(error, file.path);
      if (e.code === 'FILE_MISSING' && file.optional) {
        summary.skipped.push({ path: `config/${file.name}`, reason: 'optional file missing' });
        ctx.warn('FILE_MISSING', `Optional config file ${file.path} does not exist; skipped`);
        continue;
      }
      throw e;
    }
  }
  for (const dir of directories) {
    throwIfAborted(ctx.signal);
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(dir.path);
    } catch (error) {
      const e = permissionError(error, dir.path);
      if (e.code === 'FILE_MISSING' && dir.optional) {
        summary.skipped.push({ path: `config/${dir.name}/`, reason: 'optional folder missing' });
        ctx.warn('FILE_MISSING', `Optional folder ${dir.path} does not exist; skipped`);
        continue;
      }
      throw e;
    }
    if (!st.isDirectory()) throw new LifeboatError('CONFIG_INVALID', `${dir.path} is not a folder`);
    const root = await fs.realpath(dir.path);
    await ctx.emit({ path: dir.name, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
    let entries: number;
    try {
      entries = 1 + (await emitTree(ctx, root, root, dir.name, summary));
    } catch (error) {
      throw error instanceof LifeboatError ? error : permissionError(error, dir.path);
    }
    summary.directories.push({ path: `config/${dir.name}/`, source: dir.path, entries });
  }
  return summary;
}
