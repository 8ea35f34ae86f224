import './errors.js';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { LifeboatError } from '@lifeboat/core';

export const lstatOrNull = (path: string) =>
  fs.lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });

const linked = (path: string) =>
  new LifeboatError(
    'UNSAFE_PATH',
    `${path} is a symbolic link; a restore never writes through one`,
    {
      hint: 'Replace the link by a real folder, or restore into an empty --config-dir.',
      details: { path },
    },
  );

/** The folders from just below `base` down to `dir` (included), outermost first. */
function below(base: string, dir: string): string[] {
  const rel = relative(base, dir);
  if (rel === '') return [];
  if (rel.startsWith('..') || rel.startsWith(sep)) {
    throw new LifeboatError('UNSAFE_PATH', `${dir} is outside ${base}`, { details: { dir } });
  }
  const parts = rel.split(sep);
  return parts.map((_, i) => `${base}${sep}${parts.slice(0, i + 1).join(sep)}`);
}

/**
 * Checks the folders between `base` and `dir` without creating any: each that exists must be a
 * real folder, not a link (a link would carry the restore somewhere nobody named).
 */
export async function checkFolders(base: string, dir: string): Promise<void> {
  for (const path of below(base, dir)) {
    if (!(await isRealFolder(path))) return;
  }
}

/** False when nothing is at `path`; throws when a link or a file is. */
async function isRealFolder(path: string): Promise<boolean> {
  const st = await lstatOrNull(path);
  if (!st) return false;
  if (st.isSymbolicLink()) throw linked(path);
  if (!st.isDirectory()) {
    throw new LifeboatError('FILE_EXISTS', `${path} is in the way of a folder to restore`, {
      hint: 'Move it away, or restore into an empty --config-dir.',
      details: { path },
    });
  }
  return true;
}

/**
 * Creates `dir` below `base` one folder at a time, checking each with lstat, so no link is
 * followed; returns the folders it created (outermost first), for a rollback.
 */
export async function makeFolders(base: string, dir: string): Promise<string[]> {
  await fs.mkdir(base, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const path of below(base, dir)) {
    try {
      await fs.mkdir(path, { mode: 0o700 });
      created.push(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await isRealFolder(path);
  }
  return created;
}

/** Sets a folder's mode and times through a handle opened without following a link. */
export async function setFolderMeta(path: string, mode: number, mtime: Date): Promise<void> {
  const handle = await fs
    .open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    .catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ELOOP' || error.code === 'ENOTDIR' ? linked(path) : error;
    });
  try {
    await handle.chmod(mode & 0o777);
    await handle.utimes(mtime, mtime);
  } finally {
    await handle.close();
  }
}
