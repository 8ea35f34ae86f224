import { Cron } from 'croner';
import { LifeboatError } from '../errors.js';

export interface Schedule {
  /** Stops future runs; resolves when the run in progress, if any, has finished. */
  stop(): Promise<void>;
  nextRun(): Date | null;
  /** Whether a run is in progress now. */
  isBusy(): boolean;
}

/**
 * Runs `job` on a cron schedule (croner syntax, UTC unless `timezone`). A run that is still
 * going when the next is due is not overlapped: the due run is skipped and reported.
 */
export function schedule(
  cron: string,
  job: () => Promise<unknown>,
  options: { timezone?: string; onError?: (error: unknown) => void; onSkip?: () => void } = {},
): Schedule {
  let busy = false;
  let current: Promise<void> = Promise.resolve();
  let task: Cron;
  try {
    task = new Cron(
      cron,
      { timezone: options.timezone ?? 'UTC', protect: () => options.onSkip?.() },
      () => {
        busy = true;
        current = (async () => {
          try {
            await job();
          } catch (error) {
            try {
              options.onError?.(error);
            } catch {
              // An error handler that throws must not stop the schedule.
            }
          } finally {
            busy = false;
          }
        })();
        return current;
      },
    );
  } catch (error) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `Invalid cron expression "${cron}": ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    stop: async () => {
      task.stop();
      await current;
    },
    nextRun: () => task.nextRun(),
    isBusy: () => busy,
  };
}
