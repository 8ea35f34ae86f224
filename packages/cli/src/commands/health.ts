import { statusWord } from '../colour.js';
import type { CommandContext } from '../context.js';
import { table } from '../io.js';

const EXIT = { OK: 0, WARNING: 1, CRITICAL: 2 } as const;

export async function healthCommand(
  ctx: CommandContext,
  options: { alert?: boolean },
): Promise<number> {
  const engine = await ctx.engine();
  const report = await engine.health({ alert: Boolean(options.alert) });
  // The dead-man's switch is not a notifier: its reachability is checked here. A service that
  // cannot be reached is a warning: the backups themselves are fine.
  const heartbeat = ctx.heartbeat();
  if (heartbeat) {
    report.checks.push(...(await heartbeat.health()));
    if (report.status === 'OK' && report.checks.some((c) => c.status !== 'ok'))
      report.status = 'WARNING';
  }
  if (engine.context.sources.length === 0) {
    // Nothing to back up is nothing to vouch for: never an OK.
    report.checks.unshift({
      name: 'database',
      status: 'warning',
      message:
        'nothing configured to back up: set DATABASE_URL (or POSTGRES_*/PG* variables), CONFIG_FILES or SSL_DIR',
    });
    if (report.status === 'OK') report.status = 'WARNING';
  }
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
