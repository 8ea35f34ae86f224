import { createReadStream, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertSafeEntryPath,
  hostHint,
  LifeboatError,
  parseOptions,
  type Storage,
  type StoredObject,
  withSignal,
} from '@lifeboat/core';
import { bounded, makeDirs } from './bounded.js';
import { fsError } from './errors.js';
import { type LocalStorageOptions, localStorageOptionsSchema } from './options.js';
import { isAbandoned, isTempName, tempName } from './temp-files.js';

const READ_CHUNK = 256 * 1024;

/**
 * Archives in a local folder. A put writes a temporary file beside the final name, fsyncs it,
 * links it into place (which fails rather than overwrite) and fsyncs the folder, so a crash at
 * any point leaves either the whole archive or none.
 */
export function localStorage(input: LocalStorageOptions) {
  const options = parseOptions(localStorageOptionsSchema, input, 'local storage');
  const root = resolve(options.dir);
  const warn = options.onWarning ?? (() => {});
  const limit = <T>(work: Promise<T>, action: string, path: string) =>
    bounded(work, options.timeoutMs, action, path);

  const pathOf = (key: string) => {
    const safe = assertSafeEntryPath(key);
    if (safe.split('/').some(isTempName)) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `"${key}" uses a name reserved for temporary files`,
      );
    }
    return join(root, ...safe.split('/'));
  };

  const ensureDir = (dir: string) =>
    limit(makeDirs(dir, options.dirMode), 'create the folder', dir);

  const syncDir = async (dir: string) => {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };

  const walk = async (
    dir: string,
    prefix: string,
    out: StoredObject[],
    cleanup?: (path: string, name: string) => Promise<void>,
  ) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(error, 'list', dir);
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (isTempName(entry.name)) {
        await cleanup?.(full, entry.name);
        continue;
      }
      const key = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(full, key, out, cleanup);
      else if (entry.isFile()) {
        try {
          const st = await fs.stat(full);
          out.push({ key, bytes: st.size, modifiedAt: st.mtime });
        } catch {
          // Deleted while listing.
        }
      }
    }
  };

  /** Checks the folder (creating it when asked) and removes leftovers of killed runs. */
  async function prepare(create: boolean): Promise<void> {
    if (create) await ensureDir(root);
    const st = await fs.stat(root).catch((error) => {
      if (!create && (error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new LifeboatError(
          'STORAGE_NOT_FOUND',
          `The backup folder "${root}" does not exist (nothing was created: this command only reads)`,
          {
            hint: hostHint(
              'local:missing',
              'Check dir; connect() without create: false creates the folder.',
            ),
          },
        );
      throw fsError(error, 'open', root);
    });
    if (!st.isDirectory())
      throw new LifeboatError(
        'CONFIG_INVALID',
        `${hostHint('local:dir', 'dir')} "${root}" is not a folder`,
      );
    if ((st.mode & 0o077) !== 0) {
      warn(
        'STORAGE_READABLE_BY_OTHERS',
        `The backup folder ${root} has mode ${(st.mode & 0o777).toString(8)}: others can read it. Run: chmod 700 ${root}`,
      );
    }
    try {
      await fs.access(root, fs.constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM')
        throw fsError(error, 'write to', root);
      // A read-only folder (a mounted snapshot of the backups, a disaster) can still be listed,
      // verified and restored from; writes fail with PERMISSION_DENIED naming the folder.
      warn(
        'STORAGE_READ_ONLY',
        `The backup folder ${root} is not writable (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}): archives can be read, not written`,
      );
      return;
    }
    // Leftovers of killed runs: never listed, and removed once their writer is gone.
    const now = Date.now();
    await walk(root, '', [], async (path, name) => {
      try {
        const tst = await fs.stat(path);
        if (isAbandoned(name, tst.mtimeMs, now, options.staleTempMs)) {
          await fs.rm(path, { force: true, recursive: true });
          warn('TEMP_CLEANED', `Removed ${path}, left by an interrupted run`);
        }
      } catch {
        // Removed by someone else meanwhile.
      }
    });
  }

  /** Puts a finished temporary file under its final name: never over another one unless asked. */
  async function place(key: string, temp: string, final: string, overwrite: boolean) {
    if (overwrite) {
      await fs.rename(temp, final);
    } else {
      try {
        await fs.link(temp, final);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST')
          throw new LifeboatError(
            'ALREADY_EXISTS',
            `"${key}" exists in ${root}; archives are never overwritten`,
          );
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
        // File systems without hard links: check, then rename (a narrow race, documented).
        if (
          await fs.stat(final).then(
            () => true,
            () => false,
          )
        ) {
          throw new LifeboatError(
            'ALREADY_EXISTS',
            `"${key}" exists in ${root}; archives are never overwritten`,
          );
        }
        await fs.rename(temp, final);
      }
      await fs.rm(temp, { force: true });
    }
  }

  return {
    id: 'local',
    capabilities: { freeSpace: true, exclusiveCreate: true },
    describe: () => root,
    async connect(connectOptions = {}) {
      await limit(prepare(connectOptions.create ?? true), 'open the backup folder', root);
    },
    async close() {},
    async put(key, body, putOptions = {}) {
      // The body is ours from now on: a failure of its producer while the folder and file are
      // still being prepared must not go unheard (an 'error' without a listener crashes the
      // process); the pipeline below then rejects with it.
      if (!(body instanceof Uint8Array)) (body as Readable).on('error', () => {});
      const final = pathOf(key);
      const dir = dirname(final);
      const temp = join(dir, tempName(final.slice(dir.length + 1)));
      try {
        await ensureDir(dir);
        if (putOptions.signal?.aborted) throw putOptions.signal.reason ?? new Error('aborted');
        const handle = await limit(fs.open(temp, 'wx', options.fileMode), 'create', temp);
        let written: Stats | undefined;
        // A stream over the FileHandle, not over its number: `createWriteStream('', { fd, autoClose:
        // false })` closes the descriptor anyway when a write fails (ENOSPC), and closing it again
        // here failed with EBADF, hiding "disk full" (or closed a descriptor reused meanwhile).
        const out = handle.createWriteStream({ autoClose: false, highWaterMark: 1024 * 1024 });
        try {
          const chunks = body instanceof Uint8Array ? [body] : (body as Readable);
          await pipeline(chunks, out, putOptions.signal ? { signal: putOptions.signal } : {});
          // Measured here, not after the rename: once in place, another process may remove it.
          written = await limit(
            (async () => {
              await handle.chmod(options.fileMode);
              await handle.sync();
              return handle.stat();
            })(),
            'sync',
            temp,
          );
        } finally {
          // The stream holds the handle (handle.close() would wait for it): destroying the
          // stream closes the handle; the close after it is then a no-op.
          if (!out.closed) {
            const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
            out.destroy();
            await closed;
          }
          await handle.close().catch(() => {});
        }
        await limit(place(key, temp, final, Boolean(putOptions.overwrite)), 'write', final);
        await limit(syncDir(dir), 'sync the folder', dir);
        return { key, bytes: written!.size, modifiedAt: written!.mtime };
      } catch (error) {
        if (!(body instanceof Uint8Array)) (body as Readable).destroy();
        await fs.rm(temp, { force: true }).catch(() => {});
        if (error instanceof LifeboatError) throw error;
        if ((error as Error)?.name === 'AbortError' || putOptions.signal?.aborted) {
          throw new LifeboatError('ABORTED', `Writing "${key}" was aborted`, { cause: error });
        }
        throw fsError(error, 'write', final);
      }
    },
    async get(key, getOptions = {}) {
      const path = pathOf(key);
      try {
        const st = await limit(fs.stat(path), 'read', path);
        if (!st.isFile()) throw new LifeboatError('NOT_FOUND', `"${key}" is not a file`);
      } catch (error) {
        if (error instanceof LifeboatError) throw error;
        throw fsError(error, 'read', key);
      }
      const range = getOptions.range;
      // An empty range: createReadStream's `end` is inclusive and cannot say "nothing".
      if (range && range.end <= range.start) return Readable.from([]);
      return createReadStream(path, {
        // A positioned read: only the range's bytes leave the disk.
        ...(range ? { start: range.start, end: range.end - 1 } : {}),
        // 256 KiB reads: a restore holds fewer bytes in flight, and glibc's heap keeps fewer
        // holes of freed 1 MiB buffers (peak RSS of a scale-1 restore ~105 -> ~95 MiB, same
        // wall and CPU; issue 16).
        highWaterMark: range ? Math.min(READ_CHUNK, range.end - range.start) : READ_CHUNK,
        ...(getOptions.signal ? { signal: getOptions.signal } : {}),
      });
    },
    // A file-system call cannot be cancelled: an abort ends the wait for it (withSignal).
    stat: (key, callOptions = {}) =>
      withSignal(callOptions.signal, async (): Promise<StoredObject> => {
        const path = pathOf(key);
        try {
          const st = await limit(fs.stat(path), 'read', path);
          if (!st.isFile()) throw new LifeboatError('NOT_FOUND', `"${key}" is not a file`);
          return { key, bytes: st.size, modifiedAt: st.mtime };
        } catch (error) {
          if (error instanceof LifeboatError) throw error;
          throw fsError(error, 'read', key);
        }
      }),
    list: (prefix = '', callOptions = {}) =>
      withSignal(callOptions.signal, async () => {
        // Walk only the folder the prefix points into.
        const slash = prefix.lastIndexOf('/');
        const base = slash >= 0 ? prefix.slice(0, slash) : '';
        const dir = base ? pathOf(base) : root;
        const out: StoredObject[] = [];
        await limit(walk(dir, base, out), 'list', dir);
        return out.filter((o) => o.key.startsWith(prefix));
      }),
    delete: (key, callOptions = {}) =>
      withSignal(callOptions.signal, async () => {
        const path = pathOf(key);
        try {
          await limit(fs.unlink(path), 'delete', path);
          await limit(syncDir(dirname(path)), 'sync the folder', dirname(path)).catch(() => {});
        } catch (error) {
          if (error instanceof LifeboatError) throw error;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw fsError(error, 'delete', key);
        }
      }),
    async freeSpace() {
      try {
        const st = await limit(fs.statfs(root), 'measure free space of', root);
        return { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize };
      } catch (error) {
        if (error instanceof LifeboatError) throw error;
        throw fsError(error, 'measure free space of', root);
      }
    },
  } satisfies Storage;
}
