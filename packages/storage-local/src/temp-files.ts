import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { processGone } from '@lifeboat/core';

/**
 * Temporary files are `.lifeboat-tmp.<host>.<pid>.<random>.<final name>.partial`, beside their final
 * name: hidden, and never ending like an archive, so no glob or person takes one for a backup.
 */
export const TEMP_MARKER = '.lifeboat-tmp.';

const host = hostname().replace(/[^A-Za-z0-9-]/g, '_');

export function tempName(finalName: string): string {
  return `${TEMP_MARKER}${host}.${process.pid}.${randomBytes(6).toString('hex')}.${finalName}.partial`;
}

export const isTempName = (name: string) => name.startsWith(TEMP_MARKER);

/**
 * A temporary file is abandoned when the process that wrote it is gone (same host), or when it is
 * older than `maxAgeMs` (another host, or a reused pid). Live writers are left alone.
 */
export function isAbandoned(
  name: string,
  modifiedMs: number,
  now: number,
  maxAgeMs: number,
): boolean {
  const [owner, pid] = name.slice(TEMP_MARKER.length).split('.');
  if (owner === host && pid && /^\d+$/.test(pid)) {
    if (Number(pid) === process.pid) return false;
    if (processGone({ host: hostname(), pid: Number(pid) })) return true;
  }
  return now - modifiedMs > maxAgeMs;
}
