import { constants } from 'node:os';

/**
 * glibc's allocator raises its mmap threshold to the size of the largest buffer freed so far
 * (up to 32 MiB): after the first 1 MiB buffer (a read chunk, an inflated gzip member) is freed,
 * every later one comes from the heap, and the holes they leave stay resident. Measured on a
 * scale-10 restore under BACKUP_MEMORY_LIMIT=64MiB: ~30 MiB of anonymous memory that is neither
 * V8's heap nor a live buffer, enough for a 64 MiB cgroup to kill the process. A fixed threshold
 * (128 KiB, glibc's own starting value) maps each big buffer on its own and unmaps it when it is
 * freed; two arenas bound the per-thread heaps of the zlib threads. Costs some system time (a
 * mapping per buffer), which is why only a run with a memory limit gets it. The allocator reads
 * these when the process starts, hence a child process; other C libraries (musl) ignore them.
 */
export const SMALL_MALLOC = {
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
  MALLOC_ARENA_MAX: '2',
} as const;

/** Whether the allocator settings are already in this environment (set by us or by the user). */
export const smallMallocEnv = (env: NodeJS.ProcessEnv) =>
  Object.keys(SMALL_MALLOC).some((k) => env[k] !== undefined);

/** BACKUP_MEMORY_LIMIT (or its _FILE form) or --memory-limit: the small-container plan. */
export function memoryLimitAsked(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (env.BACKUP_MEMORY_LIMIT || env.BACKUP_MEMORY_LIMIT_FILE) return true;
  return argv.slice(2).some((a) => a === '--memory-limit' || a.startsWith('--memory-limit='));
}

/**
 * Runs this same command in a child with SMALL_MALLOC set, its standard streams shared, and
 * resolves with its exit code (128 + the signal's number when a signal ended it). SIGINT, SIGTERM
 * and SIGHUP sent to this process are passed on, so `kill`, a container's stop and Ctrl-C all
 * reach the command; when one reaches both (Ctrl-C on a terminal signals the whole foreground
 * group), the command counts the two as one (signals.ts).
 */
export async function runWithSmallMalloc(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, ...SMALL_MALLOC },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => child.kill(signal));
  return new Promise<number>((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`lifeboat: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
    );
  });
}
