import { statusWord } from '../colour.js';
import type { CommandContext } from '../context.js';
import { healthReport } from '../health-report.js';
import { table } from '../io.js';

const EXIT = { OK: 0, WARNING: 1, CRITICAL: 2 } as const;

export async function healthCommand(
  ctx: CommandContext,
  options: { alert?: boolean },
): Promise<number> {
  const engine = await ctx.engine();
  const report = await healthReport(engine, ctx.heartbeat(), options);
  if (options.alert && engine.context.notifiers.length === 0) {
    ctx.io.warn(
      'NO_NOTIFIER',
      '--alert: no notifier is configured (set SMTP_HOST and ADMIN_EMAIL, or WEBHOOK_URL)',
    );
  }
  ctx.io.result(
    report,
    () =>
      `${statusWord(ctx.io.out, report.status)}\n${table(
        ['CHECK', 'STATUS', 'MESSAGE'],
        report.checks.map((c) => [
          c.name,
          statusWord(ctx.io.out, c.status.toUpperCase()),
          c.message,
        ]),
      )}`,
  );
  return EXIT[report.status];
}
