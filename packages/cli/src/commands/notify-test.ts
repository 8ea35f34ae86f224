import { LifeboatError } from '@lifeboat/core';
import type { CommandContext } from '../context.js';

export async function notifyTestCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  if (engine.context.notifiers.length === 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'No notifier is configured: set SMTP_HOST, SMTP_FROM and ADMIN_EMAIL',
    );
  }
  const outcomes = await engine.notifyTest();
  const ok = outcomes.every((o) => o.ok);
  ctx.io.result({ ok, notifiers: outcomes }, () =>
    outcomes
      .map((o) => `${o.notifier}: ${o.ok ? 'delivered' : `FAILED ${o.error ?? ''}`}`)
      .join('\n'),
  );
  return ok ? 0 : 1;
}
