import type { NotificationEvent } from '../contracts.js';
import type { EngineContext } from '../engine/context.js';
import { errorSummary } from '../engine/context.js';
import { toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';

export interface NotifyOutcome {
  notifier: string;
  ok: boolean;
  error?: string;
}

/** Sends an event to every notifier. A failing notifier is reported, never thrown. */
export async function notifyAll(
  ctx: EngineContext,
  event: NotificationEvent,
  signal?: AbortSignal,
): Promise<NotifyOutcome[]> {
  return Promise.all(
    ctx.notifiers.map(async (notifier): Promise<NotifyOutcome> => {
      try {
        await notifier.notify(event, signal ? { signal } : {});
        ctx.events.emit('notify:sent', { notifier: notifier.id, kind: event.kind });
        return { notifier: notifier.id, ok: true };
      } catch (error) {
        const e = toLifeboatError(error, 'NOTIFY_FAILED');
        ctx.events.emit('notify:failed', {
          notifier: notifier.id,
          kind: event.kind,
          error: errorSummary(e),
        });
        return { notifier: notifier.id, ok: false, error: redact(e.message) };
      }
    }),
  );
}
