import { LifeboatError, throwIfAborted } from './errors.js';

/**
 * Settles like `work`, or rejects with `late()` once `ms` have passed: a call that may never
 * return (a hung mount, an endpoint that accepts and never answers) becomes an error. The work
 * itself is not cancelled; its late result is ignored.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work` unless `signal` has aborted, and rejects with ABORTED as soon as it aborts: a call
 * that cannot itself be cancelled (a file-system call) stops holding up a cancelled run. Its late
 * result is ignored.
 */
export async function withSignal<T>(
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  throwIfAborted(signal);
  const running = work();
  if (!signal) return running;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new LifeboatError('ABORTED', undefined, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The work's own late failure, after the abort won, is not an unhandled rejection.
  running.catch(() => {});
  return Promise.race([running, aborted]).finally(() =>
    signal.removeEventListener('abort', onAbort!),
  );
}
