import type { Engine, HealthReport, Heartbeat } from '@lifeboat/core';

/**
 * The backup health as `lifeboat health` and `run`'s /health report it: the engine's checks, the
 * dead-man's switch's reachability, and a WARNING when nothing is configured to back up.
 */
export async function healthReport(
  engine: Engine,
  heartbeat: Heartbeat | undefined,
  options: { alert?: boolean } = {},
): Promise<HealthReport> {
  const report = await engine.health({ alert: Boolean(options.alert) });
  // The dead-man's switch is not a notifier: its reachability is checked here. A service that
  // cannot be reached is a warning: the backups themselves are fine.
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
  return report;
}
