import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buffer } from 'node:stream/consumers';
import type { Storage } from '../contracts.js';
import { isLifeboatError, LifeboatError, throwIfAborted } from '../errors.js';
import type { LifeboatEmitter } from '../events.js';
import { PID_NAMESPACE, processGone } from '../process-alive.js';
import { abortableSleep } from '../timing.js';
import { META_PREFIX } from './history.js';

export const LOCK_KEY = `${META_PREFIX}lock`;
/** `.lifeboat/lock.takeover-<token>`: only the process that creates it may remove that stale lock. */
const TAKEOVER_PREFIX = `${LOCK_KEY}.takeover-`;

interface LockRecord {
  owner: string;
  host: string;
  pid: number;
  /** The pid namespace (Linux), so containers that share a host name do not judge each other's pids. */
  pidNamespace?: string;
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
}

export interface HeldLock {
  release(): Promise<void>;
}

const isMissing = (error: unknown) =>
  isLifeboatError(error, 'NOT_FOUND') || (error as NodeJS.ErrnoException)?.code === 'ENOENT';

async function readJson<T>(storage: Storage, key: string): Promise<T | undefined | 'corrupt'> {
  try {
    return JSON.parse((await buffer(await storage.get(key))).toString('utf8')) as T;
  } catch (error) {
    // Removed between the lookup and the read (a release racing with us) is "not there".
    if (isMissing(error)) return undefined;
    if (error instanceof SyntaxError) return 'corrupt';
    throw error;
  }
}

async function readLock(storage: Storage): Promise<LockRecord | undefined> {
  const record = await readJson<LockRecord>(storage, LOCK_KEY);
  if (record !== 'corrupt' && (record === undefined || typeof record.token === 'string'))
    return record;
  // A damaged lock object is stale at once: nobody can own it.
  return {
    owner: 'unknown (damaged lock object)',
    host: '',
    pid: 0,
    token: '',
    operation: '?',
    acquiredAt: new Date(0).toISOString(),
    refreshedAt: new Date(0).toISOString(),
  };
}

/** Only a process on this host, in this pid namespace, can be known to be gone. */
const lockOwnerGone = (record: LockRecord) =>
  processGone({
    host: record.host,
    pid: record.pid,
    ...(record.pidNamespace ? { pidNamespace: record.pidNamespace } : {}),
  });

/** Why a lock may be taken over, or undefined while its owner may still be working. */
function staleness(record: LockRecord, staleMs: number): string | undefined {
  if (lockOwnerGone(record)) return `its process ${record.pid} is gone`;
  const age = Date.now() - Date.parse(record.refreshedAt);
  if (!(age <= staleMs)) return `it was not refreshed for ${Math.round(age / 1000)} s`;
  return undefined;
}

/**
 * Removes a stale lock so that exactly one of the processes that saw it stale can remove it:
 * the one that creates the take-over marker, and only if the lock is still the same one.
 * Returns whether to try creating the lock again at once.
 */
async function takeOver(
  storage: Storage,
  held: LockRecord,
  why: string,
  options: LockOptions,
): Promise<boolean> {
  const marker = `${TAKEOVER_PREFIX}${held.token || 'damaged'}`;
  try {
    await storage.put(
      marker,
      // A nonce: a retried exclusive put takes a key holding its own bytes as its own
      // (retryingStorage), so two takers' markers must never be equal.
      Buffer.from(
        JSON.stringify({
          owner: `${hostname()}:${process.pid}`,
          at: new Date(),
          nonce: randomBytes(8).toString('hex'),
        }),
      ),
    );
  } catch (error) {
    if (!isLifeboatError(error, 'ALREADY_EXISTS')) throw error;
    // Someone else is taking it over. A marker left by a process killed meanwhile is cleared.
    const other = await readJson<{ at?: string }>(storage, marker);
    // Gone already: its taker finished (or gave up); look at the lock again.
    if (other === undefined) return true;
    const at = other !== 'corrupt' ? Date.parse(other.at ?? '') : Number.NaN;
    if (!(Date.now() - at <= options.staleMs)) await storage.delete(marker);
    return false;
  }
  try {
    const again = await readLock(storage);
    if (again && again.token === held.token) {
      await storage.delete(LOCK_KEY);
      options.events?.emit('warning', {
        code: 'STALE_LOCK',
        message: `Took over the stale lock of ${held.owner} (${held.operation}, since ${held.acquiredAt}): ${why}`,
        details: { owner: held.owner, operation: held.operation, since: held.acquiredAt },
      });
    }
    return true;
  } finally {
    await storage.delete(marker).catch(() => {});
  }
}

/**
 * One backup or prune at a time, across processes and hosts: a lock object in the storage,
 * created only if absent, refreshed while held. A lock whose owner died (same host) or that
 * was not refreshed for `staleMs` is taken over, so a killed run never blocks forever.
 *
 * Times are wall-clock times (an engine's injected clock is for naming and ages, not for a
 * protocol between processes). A storage cannot compare-and-swap, so a holder that was frozen
 * for longer than `staleMs` may lose its lock while it still runs; it is told by a `LOCK_LOST`
 * warning. Keep `staleMs` well above any pause a host can have.
 */
export async function acquireLock(storage: Storage, options: LockOptions): Promise<HeldLock> {
  const token = randomBytes(12).toString('hex');
  const deadline = Date.now() + options.waitMs;
  let announced = false;
  let vanished = 0;
  let polls = 0;
  let record: LockRecord;
  for (;;) {
    throwIfAborted(options.signal);
    const stamp = new Date().toISOString();
    record = {
      owner: `${hostname()}:${process.pid}`,
      host: hostname(),
      pid: process.pid,
      ...(PID_NAMESPACE ? { pidNamespace: PID_NAMESPACE } : {}),
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
    if (!held) {
      // Released between our attempt and the read: try again at once (a few times).
      if (++vanished <= 5) continue;
    } else {
      const why = staleness(held, options.staleMs);
      if (why && (await takeOver(storage, held, why, options))) continue;
    }
    if (Date.now() >= deadline) {
      throw new LifeboatError(
        'LOCKED',
        held
          ? `Another ${held.operation} (${held.owner}, since ${held.acquiredAt}) holds the lock ${LOCK_KEY} in ${storage.describe()}`
          : `Another run holds the lock ${LOCK_KEY} in ${storage.describe()}`,
        {
          retryable: true,
          ...(held
            ? { details: { owner: held.owner, operation: held.operation, since: held.acquiredAt } }
            : {}),
        },
      );
    }
    if (!announced && held) {
      options.events?.emit('lock:waiting', { owner: held.owner, since: held.acquiredAt });
      announced = true;
    }
    // Poll quickly at first, then once a second.
    const pause = Math.min(1000, 50 * 2 ** Math.min(polls++, 5));
    // An abort ends the wait; the loop then says ABORTED as before.
    await abortableSleep(
      Math.min(pause, Math.max(20, deadline - Date.now())),
      options.signal,
    ).catch(() => {});
  }

  let released = false;
  let lost = false;
  let refreshing: Promise<void> = Promise.resolve();
  const refreshOnce = async () => {
    const held = await readLock(storage);
    if (released) return;
    if (held?.token !== token) {
      if (!lost) {
        lost = true;
        options.events?.emit('warning', {
          code: 'LOCK_LOST',
          message: `The ${options.operation} lost its lock ${LOCK_KEY}: ${held ? `${held.owner} took it over` : 'it was removed'}`,
        });
      }
      return;
    }
    await storage.put(
      LOCK_KEY,
      Buffer.from(JSON.stringify({ ...record, refreshedAt: new Date().toISOString() })),
      { overwrite: true },
    );
  };
  const refresh = setInterval(
    () => {
      if (released || lost) return;
      refreshing = refreshing.then(refreshOnce).catch(() => {});
    },
    Math.max(20, Math.floor(options.staleMs / 3)),
  );
  refresh.unref();
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      // A refresh still writing would put the lock back after we removed it.
      await refreshing;
      const held = await readLock(storage).catch(() => undefined);
      if (held?.token === token) await storage.delete(LOCK_KEY);
    },
  };
}
