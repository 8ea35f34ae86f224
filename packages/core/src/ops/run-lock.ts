import type { EngineContext } from '../engine/context.js';
import { acquireLock, type HeldLock } from './lock.js';

/**
 * The locks a backup or prune holds: the lock object in the storage, plus the lock of every
 * source that has one (PostgreSQL's advisory lock, shared by replicas that back up the same
 * database to different storages). All or none: a failure releases what was taken.
 */
export async function acquireRunLocks(
  ctx: EngineContext,
  operation: string,
  signal?: AbortSignal,
): Promise<HeldLock> {
  const held: HeldLock[] = [
    await acquireLock(ctx.storage, {
      ...ctx.config.lock,
      operation,
      events: ctx.events,
      ...(signal ? { signal } : {}),
    }),
  ];
  try {
    for (const source of ctx.sources) {
      if (!source.lock) continue;
      held.push(
        await source.lock({ waitMs: ctx.config.lock.waitMs, ...(signal ? { signal } : {}) }),
      );
    }
  } catch (error) {
    await releaseAll(held);
    throw error;
  }
  return { release: () => releaseAll(held) };
}

async function releaseAll(held: HeldLock[]): Promise<void> {
  for (const lock of held.reverse()) await lock.release().catch(() => {});
}
