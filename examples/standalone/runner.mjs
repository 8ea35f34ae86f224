// The old backup container, as a Node process: `lifeboat run --schedule`, configured only by
// environment variables (the same names). It backs up on a cron schedule (SCHEDULE, default 02:00
// UTC daily), prunes, notifies, pings HEARTBEAT_URL, rewrites METRICS_FILE after every run and,
// with HEALTH_PORT, serves /healthz (liveness), /health and /metrics. SIGTERM cancels a backup
// under way (nothing half-written is left) and exits 143.
//
//   DATABASE_URL=postgres://… BACKUP_DIR=/backups SCHEDULE="0 2 * * *" node runner.mjs
import { main } from '@lifeboat/cli';

process.exitCode = await main([
  process.argv[0],
  'lifeboat',
  'run',
  ...(process.env.SCHEDULE ? [] : ['--schedule', '0 2 * * *']),
  ...process.argv.slice(2),
]);
