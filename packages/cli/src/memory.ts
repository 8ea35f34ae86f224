import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setMemoryPacer } from '@lifeboat/core';

const MiB = 1024 * 1024;

/**
 * Table data passes through as short-lived buffers (socket reads, gzip members) that outlive
 * V8's young collections, and V8 frees dead ones only when its heap needs a full collection or
 * when external memory grew 64 MiB past the last one: peak RSS carried up to 64 MiB of garbage.
 * This watches the array buffers and starts a full collection once they grew `stepBytes` past
 * their lowest point since the last one; with `youngStepBytes`, also a young collection (a
 * scavenge, well under 1 ms) each time they grew that much between. A backup's socket chunks die
 * young, and V8 on its own scavenges only when its 1 MiB young generation fills with objects,
 * which 64 KiB chunks hardly do (with 3 MiB entries: scale-10 backup peak RSS ~101 -> ~96 MiB,
 * README Performance). A restore's inflated buffers live until they are sent: scavenges there
 * cost 7-11% more CPU in alternating runs (for 4-8 MiB less), so it has none.
 * Started from a task (`execution: 'async'`): a `gc()`
 * called synchronously from here found them still referenced (measured: no memory freed).
 * The watch samples every 25 ms while buffers change, every 250 ms once they stayed put for 200 ms
 * (a scheduler waiting for its next run); the timer never keeps the process alive.
 */
export function startMemoryGuard(
  stepBytes: number,
  options: { youngStepBytes?: number } = {},
): () => void {
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
  let youngLow = low;
  const youngStep = options.youngStepBytes ?? Number.POSITIVE_INFINITY;
  let quiet = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = process.memoryUsage().arrayBuffers;
    low = Math.min(low, now);
    youngLow = Math.min(youngLow, now);
    if (now - low > stepBytes) {
      collect({ type: 'major', execution: 'async' });
      low = youngLow = now;
    } else if (now - youngLow > youngStep) {
      collect({ type: 'minor', execution: 'async' });
      youngLow = now;
    }
    // Slow down only after a quiet while: the tick right after a collection sees the buffers
    // fall, and a 250 ms wait from there let a backup's socket reads pile up 33 MiB of garbage
    // past the step (measured, scale 1: array buffers 12 -> 45 MiB with no collection).
    quiet = Math.abs(now - last) > MiB ? 0 : quiet + 1;
    last = now;
    timer = setTimeout(tick, quiet < 8 ? 25 : 250).unref();
  };
  timer = setTimeout(tick, 25).unref();
  // Reads the engine drops at once (the archive's sha256 check) outrun the timer: counted as
  // they go, a collection every `stepBytes` of them (core's memory-pacer.ts).
  let read = 0;
  setMemoryPacer((bytes) => {
    read += bytes;
    if (read < stepBytes) return;
    read = 0;
    collect({ type: 'minor', execution: 'sync' });
    low = Math.min(low, process.memoryUsage().arrayBuffers);
  });
  return () => {
    clearTimeout(timer);
    setMemoryPacer(undefined);
  };
}
