import { availableParallelism } from 'node:os';

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
  /**
   * S3 uploads: the first parts' size and the parts in flight. The upload holds about
   * (queue + 1) parts; the plugin's own defaults (16 MiB × 4) alone would be 80 MiB.
   */
  uploadPartBytes: number;
  uploadQueue: number;
}

/**
 * What BACKUP_MEMORY_LIMIT changes. Measured peaks (README, Performance): the defaults stay under
 * 100 MiB; under 128 MiB one connection, one gzip member at a time and 2 MiB entries keep a
 * scale-10 backup and restore within 64 MiB of memory.
 */
export function memoryPlan(limitBytes: number | undefined): MemoryPlan {
  if (limitBytes === undefined || limitBytes >= SMALL) {
    // 3 MiB entries (the SDK's default is 8): each connection holds one entry at a time, in a
    // backup (in its part buffer) and in a restore (one more waits). 8 -> 4 MiB took ~8 MiB off
    // the peak, 4 -> 3 MiB another ~2-4 MiB of a scale-10 backup, both for the same speed
    // (alternating runs, README Performance). Gzip members in flight: no more than the cores can work
    // on (the thread pool has 4 threads; more in flight only holds more buffers).
    return {
      partBytes: 3 * MiB,
      compressionConcurrency: Math.max(1, Math.min(4, availableParallelism())),
      gcStepBytes: 16 * MiB,
      // 8 MiB × 2 in flight (~24 MiB held): a backup produces its archive slower than two
      // parts upload; first parts of 8 MiB still take an archive of ~484 GiB in 10,000 parts.
      uploadPartBytes: 8 * MiB,
      uploadQueue: 2,
    };
  }
  // S3's smallest part, one at a time (~10 MiB held).
  return {
    jobs: 1,
    compressionConcurrency: 1,
    partBytes: 2 * MiB,
    gcStepBytes: 4 * MiB,
    uploadPartBytes: 5 * MiB,
    uploadQueue: 1,
  };
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
