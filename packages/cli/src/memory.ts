import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MiB = 1024 * 1024;

/** Below this, BACKUP_MEMORY_LIMIT selects the small-container plan. */
const SMALL = 128 * MiB;

export interface MemoryPlan {
  /** Database connections, unless BACKUP_JOBS / --jobs says otherwise. */
  jobs?: number;
  /** Gzip members compressed or inflated at once. */
  compressionConcurrency?: number;
  /** Table data per archive entry: a backup connection holds one entry's rows at a time. */
  partBytes?: number;
  /** A full collection once array buffers grew this much since their low point. */
  gcStepBytes: number;
}

/**
 * What BACKUP_MEMORY_LIMIT changes. Measured peaks (README, Performance): the defaults stay under
 * 100 MiB; under 128 MiB one connection, one gzip member at a time and 2 MiB entries keep a
 * scale-10 backup and restore within 64 MiB of memory.
 */
export function memoryPlan(limitBytes: number | undefined): MemoryPlan {
  if (limitBytes === undefined || limitBytes >= SMALL) {
    // 4 MiB entries (the SDK's default is 8): each connection holds one entry at a time, in a
    // backup and in a restore (one more waits), ~8 MiB less at the peak for the same speed
    // (scale 10, alternating runs). Gzip members in flight: no more than the cores can work
    // on (the thread pool has 4 threads; more in flight only holds more buffers).
    return {
      partBytes: 4 * MiB,
      compressionConcurrency: Math.max(1, Math.min(4, availableParallelism())),
      gcStepBytes: 16 * MiB,
    };
  }
  return { jobs: 1, compressionConcurrency: 1, partBytes: 2 * MiB, gcStepBytes: 4 * MiB };
}

/**
 * Table data passes through as short-lived buffers (socket reads, gzip members) that outlive
 * V8's young collections, and V8 frees dead ones only when its heap needs a full collection or
 * when external memory grew 64 MiB past the last one: peak RSS carried up to 64 MiB of garbage.
 * This watches the array buffers and starts a full collection once they grew `stepBytes` past
 * their lowest point since the last one. Started from a task (`execution: 'async'`): a `gc()`
 * called synchronously from here found them still referenced (measured: no memory freed).
 * The watch samples every 25 ms while buffers grow, every 250 ms when idle (a scheduler waiting
 * for its next run); the timer never keeps the process alive.
 */
export function startMemoryGuard(stepBytes: number): () => void {
  let gc: ((options: { type: string; execution: string }) => void) | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc');
  } catch {
    // Without it V8's own limits apply: more memory, nothing wrong.
  }
  if (typeof gc !== 'function') return () => {};
  const collect = gc;
  let low = process.memoryUsage().arrayBuffers;
  let last = low;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = process.memoryUsage().arrayBuffers;
    low = Math.min(low, now);
    if (now - low > stepBytes) {
      collect({ type: 'major', execution: 'async' });
      low = now;
    }
    const growing = now > last + MiB;
    last = now;
    timer = setTimeout(tick, growing ? 25 : 250).unref();
  };
  timer = setTimeout(tick, 25).unref();
  return () => clearTimeout(timer);
}

/** `64MiB`, `128M`, `1GiB`, `100000000`: bytes, or undefined when it is no size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  if (!m[2] && m[3]) {
    // "64B" is bytes; "64iB" is no unit.
    if (m[3].toLowerCase() !== 'b') return undefined;
  }
  const unit = { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}
