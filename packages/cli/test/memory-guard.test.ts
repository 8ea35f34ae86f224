import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startMemoryGuard } from '../src/memory.js';

const MiB = 1024 * 1024;

/** Times (performance.now) at which a full collection ended. */
function watchMajorCollections() {
  const at: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) at.push(entry.startTime + entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { at, stop: () => observer.disconnect() };
}

/** Holds 1 MiB more every 5 ms for `ms`: array buffers grow as a backup's socket reads do. */
async function grow(held: Buffer[], ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    held.push(Buffer.alloc(MiB));
    await sleep(5);
  }
}

/**
 * The guard starts a full collection once array buffers grew its step past their low point. Its
 * tick right after a collection sees them fall; it used to wait 250 ms from there as if the
 * process were idle, and a backup's reads piled up twice the step meanwhile (README, Performance).
 */
describe('startMemoryGuard', () => {
  it('keeps watching closely after a collection, so growth right after it is caught', async () => {
    const gcs = watchMajorCollections();
    const stop = startMemoryGuard(8 * MiB);
    try {
      // Garbage first: 1 MiB every 5 ms, each dropped; the guard's collection frees it…
      let garbage: Buffer | undefined;
      const start = performance.now();
      while (gcs.at.length === 0 && performance.now() - start < 2000) {
        garbage = Buffer.alloc(MiB);
        await sleep(5);
      }
      expect(garbage?.length).toBe(MiB);
      expect(gcs.at.length, 'a first collection once 8 MiB were dropped').toBeGreaterThan(0);
      // …its next ticks see the buffers fall…
      await sleep(60);
      // …then they grow again, 8 MiB past the low point within ~40 ms: caught in the next
      // 120 ms (24 MiB: V8 on its own waits for more), well inside the 250 ms the old wait took.
      const held: Buffer[] = [];
      const again = performance.now();
      await grow(held, 120);
      await sleep(1);
      expect(gcs.at.filter((t) => t > again).length).toBeGreaterThan(0);
      expect(held.length).toBeGreaterThan(8);
    } finally {
      stop();
      gcs.stop();
    }
  });

  it('frees young garbage below the full-collection step (a young collection)', async () => {
    // Whatever the test before left scheduled runs first.
    await sleep(300);
    const stop = startMemoryGuard(16 * MiB, { youngStepBytes: 4 * MiB });
    try {
      await sleep(100);
      const before = process.memoryUsage().arrayBuffers;
      // 10 MiB of socket-read-sized chunks, each dropped at once (as a backup's are once copied
      // into its part buffer): under the 16 MiB step, so no full collection is due, and too few
      // objects for V8 to run a young collection on its own.
      let chunk: Buffer | undefined;
      for (let i = 0; i < 160; i++) chunk = Buffer.allocUnsafe(64 * 1024);
      expect(chunk?.length).toBe(64 * 1024);
      chunk = undefined;
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(grown).toBeGreaterThan(8 * MiB);
      const since = performance.now();
      let freed = false;
      while (!freed && performance.now() - since < 1000) {
        await sleep(10);
        freed = process.memoryUsage().arrayBuffers - before < 2 * MiB;
      }
      expect(freed, 'the dropped chunks are freed within a second').toBe(true);
    } finally {
      stop();
    }
  });
});
