import './errors.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type ArchiveEntry,
  assertSafeLink,
  LifeboatError,
  type RestoreCheckContext,
  type RestoreContext,
  type RestoreTarget,
  throwIfAborted,
} from '@lifeboat/core';
import { isPrivate } from './names.js';
import { type Configured, type Place, placeOf } from './places.js';
import type { ConfigFilesRestoreOptions } from './restore-options.js';
import { checkFolders, lstatOrNull, makeFolders, setFolderMeta } from './safe-fs.js';

interface Staged {
  /** Name under config/: `.env.production`, `ssl/cert.pem`. */
  name: string;
  place: Place;
  /** Written beside its target (same folder, so the same filesystem); none for folders. */
  staged?: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: Date;
}

interface Moved {
  target: string;
  backup?: string;
}

const targetDirOf = (ctx: { options: ConfigFilesRestoreOptions }) =>
  ctx.options.targetDir !== undefined ? resolve(ctx.options.targetDir) : undefined;

/** Modes are masked to rwx: setuid, setgid and sticky bits are never restored. */
function modeOf(name: string, type: string, mode: number | undefined): number {
  const m = isPrivate(name) && type === 'file' ? (mode ?? 0o600) & 0o700 : (mode ?? 0o644);
  return m & 0o777;
}

/** What is in the way of a name: an existing non-folder target (a folder never is). */
async function inTheWay(s: { type: string; place: Place }): Promise<boolean> {
  if (s.type === 'directory') {
    await checkFolders(s.place.base, s.place.target);
    return false;
  }
  await checkFolders(s.place.base, dirname(s.place.target));
  const st = await lstatOrNull(s.place.target);
  if (!st) return false;
  if (st.isDirectory()) {
    throw new LifeboatError(
      'FILE_EXISTS',
      `${s.place.target} is a folder; a file cannot replace it`,
      {
        details: { path: s.place.target },
      },
    );
  }
  return true;
}

function refuseConflicts(conflicts: string[]): void {
  if (conflicts.length === 0) return;
  throw new LifeboatError(
    'FILE_EXISTS',
    `Refusing to overwrite ${conflicts.length} existing file(s): ${conflicts.slice(0, 5).join(', ')}`,
    {
      hint: 'Pass --overwrite (each old file is kept as NAME.bak), or restore into an empty --config-dir.',
      details: { conflicts },
    },
  );
}

/** Each link stays inside the root it is restored under (`ssl/`), not merely inside config/. */
function checkLink(name: string, linkname: string | undefined, root: string): void {
  if (!name.includes('/')) {
    throw new LifeboatError('UNSAFE_PATH', `config/${name} is a link, not a file or folder`);
  }
  assertSafeLink(name, linkname ?? '', root);
}

/**
 * Every precondition of a config restore, from the manifest, without writing: each link stays in
 * its root, no folder on the way is a link, no file is in the way unless `overwrite`.
 */
export async function checkConfigRestore(
  ctx: RestoreCheckContext<ConfigFilesRestoreOptions>,
  configured: Configured,
): Promise<RestoreTarget> {
  const targetDir = targetDirOf(ctx);
  const conflicts: string[] = [];
  for (const entry of ctx.manifest.entries) {
    if (!entry.path.startsWith('config/')) continue;
    const name = entry.path.slice('config/'.length);
    const place = placeOf(name, configured, targetDir);
    if (!place) continue;
    if (entry.type === 'symlink') checkLink(name, entry.linkname, place.root);
    if (await inTheWay({ type: entry.type, place })) conflicts.push(place.target);
  }
  if (ctx.options.overwrite !== true) refuseConflicts(conflicts);
  return {
    target:
      targetDir ??
      [
        ...configured.files.map((f) => f.path),
        ...configured.directories.map((d) => `${d.path}/`),
      ].join(', '),
    inPlace: targetDir === undefined,
    replaces: [],
  };
}

async function stage(entry: ArchiveEntry, place: Place, mode: number): Promise<string> {
  const staged = join(
    dirname(place.target),
    `.${basename(place.target)}.lifeboat-${randomBytes(4).toString('hex')}`,
  );
  if (entry.type === 'symlink') {
    await fs.symlink(entry.linkname!, staged);
    return staged;
  }
  // `wx`: created new, never through a link; private until it is complete.
  await pipeline(entry.stream, createWriteStream(staged, { flags: 'wx', mode: 0o600 }));
  await fs.chmod(staged, mode);
  const mtime = entry.mtime ? new Date(entry.mtime) : new Date();
  await fs.utimes(staged, mtime, mtime);
  return staged;
}

/** `NAME.bak`, or `NAME.bak.N` when an older backup is there already (it is kept too). */
async function backupName(target: string): Promise<string> {
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${target}.bak` : `${target}.bak.${n}`;
    if (!(await lstatOrNull(name))) return name;
  }
}

/**
 * Restores config files. Each file is first written beside its target (the same folder, so the
 * same filesystem: the final rename cannot fail half-way across devices); only when the whole
 * section has been read and checked are they renamed into place. Folders are created one at a
 * time and links are never followed. Any failure puts back what was moved and removes what was
 * created, so a bad archive or a refused overwrite leaves the targets as they were.
 */
export async function restoreConfig(
  ctx: RestoreContext<ConfigFilesRestoreOptions>,
  configured: Configured,
): Promise<Record<string, unknown>> {
  const targetDir = targetDirOf(ctx);
  const overwrite = ctx.options.overwrite === true;
  const staged: Staged[] = [];
  const skipped: string[] = [];
  const createdFolders: string[] = [];
  const moved: Moved[] = [];
  try {
    for await (const entry of ctx.entries) {
      throwIfAborted(ctx.signal);
      const place = placeOf(entry.relativePath, configured, targetDir);
      if (!place) {
        skipped.push(entry.relativePath);
        ctx.warn(
          'NO_TARGET',
          `config/${entry.relativePath} has no configured place; pass --config-dir to restore it`,
        );
        continue;
      }
      if (entry.type === 'symlink') checkLink(entry.relativePath, entry.linkname, place.root);
      const mode = modeOf(entry.relativePath, entry.type, entry.mode);
      const folder = entry.type === 'directory' ? place.target : dirname(place.target);
      createdFolders.push(...(await makeFolders(place.base, folder)));
      const s: Staged = {
        name: entry.relativePath,
        place,
        type: entry.type,
        mode,
        mtime: entry.mtime ? new Date(entry.mtime) : new Date(),
      };
      if (entry.type !== 'directory') s.staged = await stage(entry, place, mode);
      staged.push(s);
    }
    // The whole section is read and checked: decide, then move into place.
    const conflicts: string[] = [];
    for (const s of staged) if (await inTheWay(s)) conflicts.push(s.place.target);
    if (!overwrite) refuseConflicts(conflicts);
    const restored: { path: string; target: string; backup?: string }[] = [];
    for (const s of staged) {
      if (!s.staged) continue;
      const { target } = s.place;
      const backup = (await lstatOrNull(target)) ? await backupName(target) : undefined;
      if (backup) await fs.rename(target, backup);
      moved.push({ target, ...(backup ? { backup } : {}) });
      await fs.rename(s.staged, target);
      s.staged = undefined;
      restored.push({ path: `config/${s.name}`, target, ...(backup ? { backup } : {}) });
      ctx.item({
        kind: 'file',
        name: `config/${s.name}`,
        target,
        ...(backup ? { backup } : {}),
      });
    }
    // Folder modes and times last: writing into a folder changes its mtime.
    for (const s of [...staged].reverse()) {
      if (s.type !== 'directory') continue;
      // A configured folder may itself be a link its owner set up; below it, none is followed.
      if (s.place.target === s.place.base) {
        await fs.chmod(s.place.target, s.mode);
        await fs.utimes(s.place.target, s.mtime, s.mtime);
      } else await setFolderMeta(s.place.target, s.mode, s.mtime);
    }
    return { restored, skipped };
  } catch (error) {
    await rollBack(staged, moved, createdFolders);
    throw error;
  }
}

/** Puts back every moved file, removes every staged file and every folder the restore created. */
async function rollBack(staged: Staged[], moved: Moved[], createdFolders: string[]) {
  for (const m of [...moved].reverse()) {
    if (m.backup) await fs.rename(m.backup, m.target).catch(() => {});
    else await fs.rm(m.target, { force: true }).catch(() => {});
  }
  for (const s of staged) if (s.staged) await fs.rm(s.staged, { force: true }).catch(() => {});
  for (const dir of [...createdFolders].reverse()) await fs.rmdir(dir).catch(() => {});
}
