import { LifeboatError } from './errors.js';

/**
 * Waits `ms`, or rejects with ABORTED as soon as `signal` aborts (at once if it already has).
 * The one abortable sleep of the tool: retries, lock polling and notifier backoffs use it.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LifeboatError('ABORTED', undefined, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LifeboatError('ABORTED', undefined, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The pause before attempt `attempt + 1` (exponential backoff with jitter): half to all of
 * `base * 2^(attempt-1)`, capped at `max`. Spreads retries of many clients over time.
 */
export function jitteredBackoff(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
