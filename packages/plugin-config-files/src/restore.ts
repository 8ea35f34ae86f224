import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LifeboatError, type RestoreContext, throwIfAborted } from '@lifeboat/core';
import { isPrivate } from './names.js';
import type { NamedPath } from './options.js';

interface Staged {
  /** Name under config/: `.env.production`, `ssl/cert.pem`. */
  name: string;
  staged: string;
  target: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: Date;
}

const exists = (path: string) =>
  fs.lstat(path).then(
    () => true,
    () => false,
  );

/**
 * Restores config files. Everything is first written to a staging folder beside the target;
 * only when the whole section has been read and checked are files moved into place, so a bad
 * archive or a refused overwrite leaves the target untouched.
 */
export async function restoreConfig(
  ctx: RestoreContext,
  configured: { files: NamedPath[]; directories: NamedPath[] },
): Promise<Record<string, unknown>> {
  const targetDir =
    typeof ctx.options.targetDir === 'string' ? resolve(ctx.options.targetDir) : undefined;
  const overwrite = ctx.options.overwrite === true;
  const targetOf = (name: string): string | undefined => {
    if (targetDir) return join(targetDir, ...name.split('/'));
    const [top, ...rest] = name.split('/');
    const file = configured.files.find((f) => f.name === name);
    if (file) return file.path;
    const dir = configured.directories.find((d) => d.name === top);
    return dir ? join(dir.path, ...rest) : undefined;
  };
  const stagingRoot = targetDir ?? process.cwd();
  await fs.mkdir(stagingRoot, { recursive: true, mode: 0o700 });
  const staging = await fs.mkdtemp(
    join(stagingRoot, `.lifeboat-restore-${randomBytes(3).toString('hex')}-`),
  );
  const staged: Staged[] = [];
  const skipped: string[] = [];
  try {
    for await (const entry of ctx.entries) {
      throwIfAborted(ctx.signal);
      const target = targetOf(entry.relativePath);
      if (!target) {
        skipped.push(entry.relativePath);
        ctx.warn(
          'NO_TARGET',
          `config/${entry.relativePath} has no configured place; pass --config-dir to restore it`,
        );
        continue;
      }
      const stagedPath = join(staging, ...entry.relativePath.split('/'));
      await fs.mkdir(dirname(stagedPath), { recursive: true, mode: 0o700 });
      const mode =
        isPrivate(entry.relativePath) && entry.type === 'file'
          ? (entry.mode ?? 0o600) & 0o700
          : (entry.mode ?? 0o644);
      if (entry.type === 'directory') {
        await fs.mkdir(stagedPath, { recursive: true, mode: 0o700 });
      } else if (entry.type === 'symlink') {
        await fs.symlink(entry.linkname!, stagedPath);
      } else {
        await pipeline(entry.stream, createWriteStream(stagedPath, { mode: 0o600, flags: 'wx' }));
      }
      staged.push({
        name: entry.relativePath,
        staged: stagedPath,
        target,
        type: entry.type,
        mode,
        mtime: entry.mtime ? new Date(entry.mtime) : new Date(),
      });
    }
    // The whole section is read and checked: now decide, then move into place.
    const conflicts: string[] = [];
    for (const s of staged) {
      if (s.type !== 'directory' && (await exists(s.target))) conflicts.push(s.target);
    }
    if (conflicts.length > 0 && !overwrite) {
      throw new LifeboatError(
        'FILE_EXISTS',
        `Refusing to overwrite ${conflicts.length} existing file(s): ${conflicts.slice(0, 5).join(', ')}`,
        {
          hint: 'Pass --overwrite (each old file is kept as NAME.bak), or restore into an empty --config-dir.',
          details: { conflicts },
        },
      );
    }
    const restored: { path: string; target: string; backup?: string }[] = [];
    for (const s of staged) {
      if (s.type === 'directory') {
        await fs.mkdir(s.target, { recursive: true, mode: s.mode });
        continue;
      }
      await fs.mkdir(dirname(s.target), { recursive: true, mode: 0o700 });
      let backup: string | undefined;
      if (await exists(s.target)) {
        backup = `${s.target}.bak`;
        await fs.rename(s.target, backup);
      }
      await fs.rename(s.staged, s.target);
      if (s.type === 'file') {
        await fs.chmod(s.target, s.mode & 0o7777);
        await fs.utimes(s.target, s.mtime, s.mtime);
      }
      restored.push({ path: `config/${s.name}`, target: s.target, ...(backup ? { backup } : {}) });
      ctx.events.emit('restore:file', {
        path: `config/${s.name}`,
        target: s.target,
        ...(backup ? { backup } : {}),
      });
    }
    // Folder modes and times last: writing into a folder changes its mtime.
    for (const s of [...staged].reverse()) {
      if (s.type !== 'directory') continue;
      await fs.chmod(s.target, s.mode & 0o7777);
      await fs.utimes(s.target, s.mtime, s.mtime);
    }
    return { restored, skipped };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
