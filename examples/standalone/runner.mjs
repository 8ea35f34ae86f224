// The old backup container, as a Node process: configured only by environment variables (the
// same names), it backs up on a cron schedule (BACKUP_SCHEDULE, default 02:00 UTC daily), prunes,
// e-mails, and logs one JSON line per event. SIGTERM stops it cleanly between runs.
//
//   DATABASE_URL=postgres://… BACKUP_DIR=/backups BACKUP_SCHEDULE="0 2 * * *" node runner.mjs
import { buildEngine, fromEnv, resolveSettings } from '@lifeboat/cli';

const log = (level, msg, fields = {}) =>
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`,
  );

const settings = resolveSettings({ env: fromEnv(process.env) });
const engine = await buildEngine(settings, {
  onWarning: (code, message) => log('warn', message, { code }),
});
for (const event of [
  'backup:started',
  'backup:succeeded',
  'backup:failed',
  'prune:deleted',
  'notify:failed',
  'warning',
]) {
  engine.events.on(event, (payload) =>
    log(event.endsWith('failed') ? 'error' : 'info', event, payload),
  );
}

const cron = process.env.BACKUP_SCHEDULE ?? '0 2 * * *';
const job = engine.schedule(cron, {
  onError: (error) =>
    log('error', 'scheduled backup failed', { code: error.code, message: error.message }),
});
log('info', 'scheduled', { cron, next: job.nextRun()?.toISOString() });
if (process.env.RUN_ON_START === 'true') {
  await engine.backup().catch(() => {});
}

const stop = async (signal) => {
  log('info', 'stopping', { signal });
  job.stop();
  while (job.isBusy()) await new Promise((r) => setTimeout(r, 100));
  await engine.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
