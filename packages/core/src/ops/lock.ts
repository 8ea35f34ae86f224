import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Storage } from '../contracts.js';
import { META_PREFIX } from '../engine/history.js';
import { isLifeboatError, LifeboatError, throwIfAborted } from '../errors.js';
import type { LifeboatEmitter } from '../events.js';

export const LOCK_KEY = `${META_PREFIX}lock`;

interface LockRecord {
  owner: string;
  host: string;
  pid: number;
  token: string;
  operation: string;
  acquiredAt: string;
  refreshedAt: string;
}

export interface LockOptions {
  waitMs: number;
  staleMs: number;
  operation: string;
  events?: LifeboatEmitter;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface HeldLock {
  release(): Promise<void>;
}

async function readLock(storage: Storage): Promise<LockRecord | undefined> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(LOCK_KEY)) as AsyncIterable<Buffer>) chunks.push(c);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as LockRecord;
  } catch (error) {
    if (isLifeboatError(error, 'NOT_FOUND')) return undefined;
    if (error instanceof SyntaxError)
      return {
        owner: 'unknown',
        host: '',
        pid: 0,
        token: '',
        operation: '?',
        acquiredAt: new Date(0).toISOString(),
        refreshedAt: new Date(0).toISOString(),
      };
    throw error;
  }
}

const processGone = (record: LockRecord) => {
  if (record.host !== hostname() || !record.pid) return false;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

/**
 * One backup or prune at a time, across processes and hosts: a lock object in the storage,
 * created only if absent, refreshed while held. A lock whose owner died (same host) or that
 * was not refreshed for `staleMs` is taken over, so a killed run never blocks forever.
 */
export async function acquireLock(storage: Storage, options: LockOptions): Promise<HeldLock> {
  const now = options.now ?? (() => new Date());
  const token = randomBytes(12).toString('hex');
  const deadline = Date.now() + options.waitMs;
  let announced = false;
  for (;;) {
    throwIfAborted(options.signal);
    const stamp = now().toISOString();
    const record: LockRecord = {
      owner: `${hostname()}:${process.pid}`,
      host: hostname(),
      pid: process.pid,
      token,
      operation: options.operation,
      acquiredAt: stamp,
      refreshedAt: stamp,
    };
    try {
      await storage.put(LOCK_KEY, Buffer.from(JSON.stringify(record)));
      break;
    } catch (error) {
      if (!isLifeboatError(error, 'ALREADY_EXISTS')) throw error;
    }
    const held = await readLock(storage);
    if (!held) continue;
    const age = now().getTime() - Date.parse(held.refreshedAt);
    if (processGone(held) || age > options.staleMs) {
      options.events?.emit('warning', {
        code: 'STALE_LOCK',
        message: `Took over a stale lock of ${held.owner} (${held.operation}, last refreshed ${held.refreshedAt})`,
      });
      // Only remove it if it is still the same stale lock.
      const again = await readLock(storage);
      if (again?.token === held.token) await storage.delete(LOCK_KEY);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LifeboatError(
        'LOCKED',
        `Another ${held.operation} (${held.owner}, since ${held.acquiredAt}) holds the lock`,
        {
          retryable: true,
          details: { owner: held.owner, operation: held.operation, since: held.acquiredAt },
        },
      );
    }
    if (!announced) {
      options.events?.emit('lock:waiting', { owner: held.owner, since: held.acquiredAt });
      announced = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, deadline - Date.now()))));
  }
  const refresh = setInterval(
    () => {
      const stamp = now().toISOString();
      readLock(storage)
        .then((held) => {
          if (held?.token !== token) return;
          return storage.put(
            LOCK_KEY,
            Buffer.from(JSON.stringify({ ...held, refreshedAt: stamp })),
            { overwrite: true },
          );
        })
        .catch(() => {});
    },
    Math.max(1000, Math.floor(options.staleMs / 3)),
  );
  refresh.unref();
  return {
    async release() {
      clearInterval(refresh);
      const held = await readLock(storage).catch(() => undefined);
      if (held?.token === token) await storage.delete(LOCK_KEY);
    },
  };
}
