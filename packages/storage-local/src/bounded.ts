import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostHint, LifeboatError, withDeadline } from '@lifeboat/core';
import { fsError } from './errors.js';

/**
 * Fails with STORAGE_TIMEOUT, naming the path, when `work` has not settled within `ms`: a hung
 * network mount must make a command fail, not hang (a health check that never answers never
 * alerts). The file-system call itself cannot be cancelled; its late result is ignored.
 */
export const bounded = <T>(work: Promise<T>, ms: number, action: string, path: string) =>
  withDeadline(
    work,
    ms,
    () =>
      new LifeboatError(
        'STORAGE_TIMEOUT',
        `Cannot ${action} "${path}": the file system did not answer within ${ms / 1000} s`,
        { retryable: true },
      ),
  );

const errno = (error: unknown) => (error as NodeJS.ErrnoException)?.code;

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(…, { recursive: true })` loops forever at full
 * CPU where a file system answers ENOENT for a folder it cannot hold (`/proc/x`), so this one
 * climbs to the nearest folder that exists and creates each level below it once.
 */
export async function makeDirs(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let current = dir; ; ) {
    try {
      const st = await fs.stat(current);
      if (!st.isDirectory())
        throw new LifeboatError(
          'STORAGE_FAILED',
          `Cannot create the folder "${dir}": "${current}" is not a folder`,
        );
      break;
    } catch (error) {
      if (error instanceof LifeboatError) throw error;
      const parent = dirname(current);
      if (errno(error) !== 'ENOENT' || parent === current)
        throw fsError(error, 'create the folder', dir);
      missing.push(current);
      current = parent;
    }
  }
  for (const level of missing.reverse()) {
    try {
      await fs.mkdir(level, { mode });
    } catch (error) {
      // Created meanwhile by another run: fine if it is a folder.
      if (errno(error) === 'EEXIST' && (await fs.stat(level)).isDirectory()) continue;
      if (errno(error) === 'ENOENT') {
        // The parent exists (checked above) and still the file system says "no such file".
        throw new LifeboatError(
          'STORAGE_FAILED',
          `Cannot create the folder "${dir}": the file system of "${dirname(level)}" does not allow new folders there (ENOENT)`,
          {
            cause: error,
            hint: hostHint(
              'local:not-a-disk',
              'Set dir to a folder on a disk (not /proc, /sys or /dev).',
            ),
          },
        );
      }
      throw fsError(error, 'create the folder', dir);
    }
  }
}
