import { Cron } from 'croner';
import { LifeboatError } from '../errors.js';

export interface Schedule {
  stop(): void;
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
  let task: Cron;
  try {
    task = new Cron(
      cron,
      { timezone: options.timezone ?? 'UTC', protect: () => options.onSkip?.() },
      async () => {
        busy = true;
        try {
          await job();
        } catch (error) {
          options.onError?.(error);
        } finally {
          busy = false;
        }
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
    stop: () => task.stop(),
    nextRun: () => task.nextRun(),
    isBusy: () => busy,
  };
}
