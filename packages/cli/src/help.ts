import type { Command } from 'commander';

const DATABASE =
  'DATABASE_URL, or POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB\n    (unset: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGPASSFILE)\n  PGSSLMODE PGSSLROOTCERT PGSSLCERT PGSSLKEY PGSSLCRL (libpq SSL; or sslmode=… in the URL)';
const STORAGE =
  'BACKUP_DIR, or S3_BUCKET S3_PREFIX S3_REGION S3_ENDPOINT S3_FORCE_PATH_STYLE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY';
const FILES = 'CONFIG_FILES (?name: optional), SSL_DIR';
const NOTIFY =
  'SMTP_HOST SMTP_PORT SMTP_USER SMTP_PASS SMTP_FROM SMTP_SECURE SMTP_REQUIRE_TLS ADMIN_EMAIL,\n    WEBHOOK_URL WEBHOOK_SECRET WEBHOOK_PRESET, NOTIFY_ON SMTP_NOTIFY_ON WEBHOOK_NOTIFY_ON';
const RETENTION =
  'BACKUP_RETENTION_DAYS, BACKUP_KEEP_LAST BACKUP_KEEP_DAILY BACKUP_KEEP_WEEKLY BACKUP_KEEP_MONTHLY';
const KEYS = 'BACKUP_ENCRYPTION_RECIPIENTS, BACKUP_ENCRYPTION_IDENTITY_FILE';
const LOGS = 'LOG_FILE LOG_RETENTION_DAYS LOG_FORMAT';
const OUTPUT = 'NO_COLOR FORCE_COLOR (colour on a terminal only, unless forced)';

/** What the backup job reads: `backup`, and `run` on its schedule. */
const BACKUP_JOB = [
  DATABASE,
  'BACKUP_TABLES BACKUP_EXCLUDE_TABLES BACKUP_JOBS BACKUP_PREFIX BACKUP_COMPRESSION_LEVEL BACKUP_ALLOW_INCOMPLETE',
  "BACKUP_FILTER (pg_dump's --filter file) BACKUP_SCHEMAS BACKUP_EXCLUDE_SCHEMAS BACKUP_EXCLUDE_TABLE_DATA",
  'BACKUP_MEMORY_LIMIT (e.g. 64MiB, at least 48MiB: one connection and smaller buffers under 128MiB)',
  'BACKUP_GLOBALS (roles | all-roles: roles too; password hashes only with encryption)',
  FILES,
  STORAGE,
  KEYS,
  RETENTION,
  NOTIFY,
  'HEARTBEAT_URL HEARTBEAT_STYLE METRICS_FILE',
  LOGS,
];

/** Per command: the environment variables that apply and two examples. */
const COMMANDS: Record<string, { note?: string; env: string[]; examples: string[] }> = {
  backup: {
    env: BACKUP_JOB,
    examples: [
      'DATABASE_URL=postgres://postgres@db/app BACKUP_DIR=/backups lifeboat backup --json',
      '0 2 * * * cd /srv/app && lifeboat --quiet backup   # cron: mail only on failure',
    ],
  },
  run: {
    note: 'SIGTERM or Ctrl-C cancels a backup under way (nothing half-written is kept) and exits 143/130.',
    env: [
      'SCHEDULE HEALTH_PORT HEALTH_HOST (/health: HEALTH_MAX_AGE_HOURS HEALTH_MIN_FREE_BYTES)',
      ...BACKUP_JOB,
    ],
    examples: [
      'lifeboat run --schedule "0 2 * * *"   # 02:00 UTC every day, in the foreground',
      'SCHEDULE="0 */6 * * *" HEALTH_PORT=8080 lifeboat run   # liveness probe: GET :8080/healthz',
    ],
  },
  list: {
    env: [STORAGE],
    examples: [
      'BACKUP_DIR=/backups lifeboat list',
      'BACKUP_DIR=/backups lifeboat list latest --entries',
    ],
  },
  verify: {
    env: [
      STORAGE,
      `${DATABASE}   (--deep)`,
      'BACKUP_JOBS BACKUP_MEMORY_LIMIT   (--deep)',
      KEYS,
      LOGS,
    ],
    examples: [
      'lifeboat verify critical_backup_20261126_020000',
      'lifeboat verify random --deep   # the monthly restore drill',
      "lifeboat verify latest --tables users,'audit_*'   # only those tables' entries: reads their members alone",
      'lifeboat verify latest --only config   # only the config files',
      'lifeboat verify latest --deep --allow-newer-archive   # an archive from a newer PostgreSQL than this server',
    ],
  },
  restore: {
    note: 'A database restore writes only where it is told: --target-database, --target-url, or --in-place.',
    env: [
      STORAGE,
      DATABASE,
      'TARGET_DATABASE_URL (--target-url without the password in the process list)',
      FILES,
      KEYS,
      'BACKUP_JOBS BACKUP_MEMORY_LIMIT',
      LOGS,
    ],
    examples: [
      'lifeboat restore latest --target-database app_restored',
      'lifeboat restore latest --in-place          # the database was lost: restore it where it was',
      'lifeboat restore latest --target-database app --tables users --as-suffix _restored',
      'lifeboat restore critical_backup_20261126_020000 --only config --config-dir ./restored',
      'lifeboat restore latest --target-url "$STAGING_URL" --no-owner --no-privileges --exclude-table-data "audit.*"',
      'lifeboat restore latest --target-database app_copy --no-analyze   # planner statistics left to autovacuum',
      'lifeboat restore latest --target-url "$PG15_URL" --allow-newer-archive   # try an 18 archive on 15 (RESTORE_VERSION_NEWER otherwise)',
      'lifeboat restore latest --target-url "$NEW_CLUSTER_URL" --globals   # disaster: roles first',
    ],
  },
  prune: {
    env: [STORAGE, RETENTION, LOGS],
    examples: [
      'BACKUP_RETENTION_DAYS=7 BACKUP_KEEP_MONTHLY=12 lifeboat prune --dry-run',
      'lifeboat prune --json',
    ],
  },
  status: {
    env: [STORAGE],
    examples: ['lifeboat status', 'lifeboat status --json | jq .lastSuccess'],
  },
  health: {
    env: [
      DATABASE,
      FILES,
      STORAGE,
      'HEALTH_MAX_AGE_HOURS HEALTH_MIN_FREE_BYTES HEALTH_MAX_DRILL_AGE_DAYS',
      NOTIFY,
      'HEARTBEAT_URL HEARTBEAT_STYLE',
    ],
    examples: [
      'lifeboat health   # exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage error)',
      '*/15 * * * * lifeboat health --alert --json > /dev/null',
    ],
  },
  report: {
    env: [STORAGE],
    examples: ['lifeboat report', 'lifeboat report --days 30 --json'],
  },
  metrics: {
    env: [STORAGE, 'METRICS_FILE'],
    examples: [
      'lifeboat metrics',
      'METRICS_FILE=/var/lib/node_exporter/textfile/lifeboat.prom lifeboat backup',
    ],
  },
  audit: {
    env: [STORAGE, LOGS, KEYS, RETENTION],
    examples: ['lifeboat audit', 'lifeboat audit --json'],
  },
  'notify-test': {
    env: [NOTIFY, 'HEARTBEAT_URL HEARTBEAT_STYLE'],
    examples: [
      'SMTP_HOST=smtp.example.com ADMIN_EMAIL=ops@example.com lifeboat notify-test',
      'WEBHOOK_URL=https://hooks.slack.com/… WEBHOOK_PRESET=slack lifeboat notify-test',
    ],
  },
};

/**
 * `lifeboat <command> --help`: the command's options, the global options, the environment
 * variables that apply and two examples. Call after every command is added.
 */
export function addCommandHelp(program: Command): void {
  for (const command of program.commands) {
    const help = COMMANDS[command.name()];
    if (!help) continue;
    command.addHelpText(
      'after',
      [
        ...(help.note ? ['', help.note] : []),
        '',
        'Environment (any variable may be NAME_FILE; `lifeboat --help` lists them all):',
        ...help.env.map((e) => `  ${e}`),
        // Every command logs and may colour its output.
        ...(help.env.includes(LOGS) ? [] : [`  ${LOGS}`]),
        `  ${OUTPUT}`,
        '',
        'Examples:',
        ...help.examples.map((e) => `  ${e}`),
      ].join('\n'),
    );
  }
}
