import { LifeboatError, redact } from '@lifeboat/core';
import type { CommandContext } from '../context.js';

export async function notifyTestCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const heartbeat = ctx.heartbeat();
  if (engine.context.notifiers.length === 0 && !heartbeat) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'No notifier is configured: set SMTP_HOST, SMTP_FROM and ADMIN_EMAIL, or WEBHOOK_URL, or HEARTBEAT_URL',
    );
  }
  const outcomes: { notifier: string; ok: boolean; error?: string; note?: string }[] =
    await engine.notifyTest();
  if (heartbeat) {
    // healthchecks.io's URL/log records the test without changing the check's state.
    try {
      const sent = await heartbeat.test();
      outcomes.push({
        notifier: 'heartbeat',
        ok: true,
        ...(sent.reason ? { note: sent.reason } : {}),
      });
    } catch (error) {
      outcomes.push({ notifier: 'heartbeat', ok: false, error: redact((error as Error).message) });
    }
  }
  const ok = outcomes.every((o) => o.ok);
  ctx.io.result({ ok, notifiers: outcomes }, () =>
    outcomes
      .map(
        (o) =>
          `${o.notifier}: ${o.ok ? (o.note ? `not sent (${o.note})` : 'delivered') : `FAILED ${o.error ?? ''}`}`,
      )
      .join('\n'),
  );
  return ok ? 0 : 1;
}
