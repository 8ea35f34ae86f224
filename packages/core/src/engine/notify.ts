import type { NotificationEvent } from '../contracts.js';
import { LifeboatError, toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';
import type { EngineContext } from './context.js';
import { errorSummary } from './context.js';

export interface NotifyOutcome {
  notifier: string;
  ok: boolean;
  error?: string;
}

/**
 * How long one notifier may take (its own retries included) before it is given up: a mail
 * server that never answers must not hold the backup, and its lock, forever.
 */
export const NOTIFY_TIMEOUT_MS = 5 * 60_000;

/** Sends an event to every notifier. A failing or hanging notifier is reported, never thrown. */
export async function notifyAll(
  ctx: EngineContext,
  event: NotificationEvent,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<NotifyOutcome[]> {
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  // A notifier that does not want this kind of event (NOTIFY_ON) is not asked at all.
  const wanted = ctx.notifiers.filter((n) => n.accepts?.(event) ?? true);
  return Promise.all(
    wanted.map(async (notifier): Promise<NotifyOutcome> => {
      const controller = new AbortController();
      const signal = options.signal
        ? AbortSignal.any([options.signal, controller.signal])
        : controller.signal;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new LifeboatError(
            'NOTIFY_FAILED',
            `${notifier.id} did not deliver within ${timeoutMs < 10_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`,
            { retryable: true },
          );
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      try {
        await Promise.race([(async () => notifier.notify(event, { signal }))(), timeout]);
        ctx.events.emit('notify:sent', { notifier: notifier.id, kind: event.kind });
        return { notifier: notifier.id, ok: true };
      } catch (error) {
        const e = toLifeboatError(error, 'NOTIFY_FAILED');
        const summary = errorSummary(e);
        ctx.events.emit('notify:failed', {
          notifier: notifier.id,
          kind: event.kind,
          error: { ...summary, message: redact(summary.message) },
        });
        return { notifier: notifier.id, ok: false, error: redact(e.message) };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
