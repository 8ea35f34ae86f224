/**
 * A hook for the process that runs the engine to bound its garbage: the engine calls
 * `paceMemory(bytes)` for the buffers it reads and drops at once, and a pacer set with
 * `setMemoryPacer` may collect garbage when too many went by. Why: the check of an archive's
 * stored sha256 reads hundreds of MiB a second and drops each 1 MiB chunk at once; V8 frees
 * them only at its next collection, and a timer-driven collection came too late (a scale-10
 * restore under a 64 MiB cgroup was killed by a burst of ~35 MiB of such chunks, README
 * Performance). Without a pacer (the SDK's default) this costs nothing.
 */
let pacer: ((bytes: number) => void) | undefined;

export function setMemoryPacer(fn: ((bytes: number) => void) | undefined): void {
  pacer = fn;
}

export function paceMemory(bytes: number): void {
  pacer?.(bytes);
}
