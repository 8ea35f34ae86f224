import { archivePrefixField, compressionLevelField, retentionDaysField } from '@lifeboat/core';
import { portField as smtpPort } from '@lifeboat/notifier-smtp/fields';
import { presetField, secretField, urlField } from '@lifeboat/notifier-webhook/fields';
import {
  GLOBALS_SCOPES,
  jobsField,
  portField as postgresPort,
} from '@lifeboat/plugin-postgres/fields';
import { bucketField, endpointField, prefixField } from '@lifeboat/storage-s3/fields';
import { Cron } from 'croner';
import { z } from 'zod';
import { parseSize } from './memory-plan.js';

/*
 * A setting that feeds a plugin's option checks its value with the plugin's own field (from the
 * plugin's `/fields` entry, which loads nothing else), after the coercion from text only the
 * environment needs; `option` names that option, so the plugin's messages can name the variable
 * (ENV_ERROR_HINTS). Each bound and shape is declared once, in the plugin.
 */

/** Comma lists come from the environment as strings and from a config file as arrays or strings. */
const list = (example: string) =>
  z
    .union([z.string(), z.array(z.string())], {
      error: `expected a comma list such as ${example} (or a JSON array of strings)`,
    })
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const int = (what: string) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/, `${what} must be a whole number such as 7`)], {
      error: `${what} must be a whole number such as 7`,
    })
    .transform(Number)
    .pipe(
      z
        .number()
        .int(`${what} must be a whole number such as 7`)
        .nonnegative(`${what} must be a whole number, 0 or more`),
    );
const positive = (what: string) =>
  z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, `${what} must be a number such as 25`)], {
      error: `${what} must be a number such as 25`,
    })
    .transform(Number)
    .pipe(z.number().positive(`${what} must be a number greater than 0`));
const bool = (what: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], {
      error: `${what} must be true or false (or 1/0, yes/no)`,
    })
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
/** Text that must not be empty; `example` shows the expected form. */
const text = (what: string, example: string) =>
  z
    .string({ error: `${what} must be text such as ${example}` })
    .min(1, `${what} must not be empty (such as ${example})`);
/** Text that may be empty (a password, a prefix). */
const anyText = (what: string) => z.string({ error: `${what} must be text` });

/** An http(s) URL; the message never shows the value (it may hold a token). */
const httpUrl = (what: string, example: string) =>
  z
    .string({ error: `${what} must be a URL such as ${example}` })
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: `${what} must be an http(s) URL such as ${example}`,
    });
/** A cron expression croner accepts: five fields, or six with seconds first. */
const cron = (what: string) =>
  text(what, '"0 2 * * *"').refine(
    (v) => {
      try {
        new Cron(v, { paused: true }).stop();
        return true;
      } catch {
        return false;
      }
    },
    {
      message: `${what} must be a cron expression such as "0 2 * * *" (minute hour day month weekday; a sixth field first for seconds)`,
    },
  );

/** A memory size: 64MiB, 128M, 1GiB or bytes; at least `min` bytes. */
const size = (what: string, min: number) => {
  const message = `${what} must be a size such as 64MiB, 128M or 1GiB`;
  return z
    .union([z.number(), z.string()], { error: message })
    .transform((v, ctx) => {
      const bytes = typeof v === 'number' ? v : parseSize(v);
      if (bytes === undefined || !Number.isFinite(bytes)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return bytes;
    })
    .pipe(
      z
        .number()
        .min(
          min,
          `${what} must be at least ${min / 1024 / 1024}MiB (Node.js alone takes about 40 MiB)`,
        ),
    );
};

/** Which notifications a channel gets: failure, warning, success. */
const notifyOn = (what: string) =>
  list('failure,warning').pipe(
    z
      .array(
        z.enum(['failure', 'warning', 'success'], {
          error: `${what} takes failure, warning and success (such as failure,warning)`,
        }),
      )
      .min(1, `${what} must name at least one of failure, warning, success`),
  );

/** Every setting, by its config-file key; `ENV` names the environment variable. */
export const SETTINGS = {
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: text('DATABASE_URL', 'postgres://user:password@host:5432/db'),
    secret: true,
  },
  targetDatabaseUrl: {
    env: 'TARGET_DATABASE_URL',
    schema: text('TARGET_DATABASE_URL', 'postgres://user:password@host:5432/app_restored'),
    secret: true,
  },
  postgresHost: { env: 'POSTGRES_HOST', schema: text('POSTGRES_HOST', 'db.internal') },
  postgresPort: {
    env: 'POSTGRES_PORT',
    option: 'postgres:port',
    schema: int('POSTGRES_PORT').pipe(postgresPort),
  },
  postgresUser: { env: 'POSTGRES_USER', schema: text('POSTGRES_USER', 'postgres') },
  postgresPassword: {
    env: 'POSTGRES_PASSWORD',
    schema: anyText('POSTGRES_PASSWORD'),
    secret: true,
  },
  postgresDb: { env: 'POSTGRES_DB', schema: text('POSTGRES_DB', 'app') },
  backupDir: { env: 'BACKUP_DIR', option: 'local:dir', schema: text('BACKUP_DIR', '/backups') },
  backupPrefix: {
    env: 'BACKUP_PREFIX',
    option: 'engine:prefix',
    schema: text('BACKUP_PREFIX', 'critical_backup').pipe(archivePrefixField),
  },
  backupTables: {
    env: 'BACKUP_TABLES',
    option: 'postgres:tables',
    schema: list('users,shop.orders'),
  },
  backupExcludeTables: { env: 'BACKUP_EXCLUDE_TABLES', schema: list('audit_log,public.sessions') },
  // pg_dump's -n, -N and --exclude-table-data, with its patterns; a --filter file of its syntax.
  backupSchemas: {
    env: 'BACKUP_SCHEMAS',
    option: 'postgres:schemas',
    schema: list('app,billing_*'),
  },
  backupExcludeSchemas: { env: 'BACKUP_EXCLUDE_SCHEMAS', schema: list('audit,scratch_*') },
  backupExcludeTableData: {
    env: 'BACKUP_EXCLUDE_TABLE_DATA',
    schema: list('public.sessions,logs.*'),
  },
  backupFilter: { env: 'BACKUP_FILTER', schema: text('BACKUP_FILTER', './backup.filter') },
  // Roles too (database/globals.sql): those the database needs, or every role of the server.
  backupGlobals: {
    env: 'BACKUP_GLOBALS',
    option: 'postgres:globals',
    schema: z.enum([...GLOBALS_SCOPES, 'none'], {
      error:
        'BACKUP_GLOBALS must be roles (the roles the database needs), all-roles (every role, as pg_dumpall --globals-only) or none',
    }),
  },
  configFiles: { env: 'CONFIG_FILES', schema: list('.env.production,?nginx.local.conf') },
  sslDir: { env: 'SSL_DIR', schema: text('SSL_DIR', './ssl') },
  compressionLevel: {
    env: 'BACKUP_COMPRESSION_LEVEL',
    option: 'engine:compressionLevel',
    // Digits become a number; anything else is the field's to refuse, in its words.
    schema: z
      .unknown()
      .transform((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v))
      .pipe(compressionLevelField),
  },
  jobs: { env: 'BACKUP_JOBS', option: 'postgres:jobs', schema: int('BACKUP_JOBS').pipe(jobsField) },
  /** Peak memory to stay within (small containers): fewer connections, smaller buffers. */
  memoryLimit: {
    env: 'BACKUP_MEMORY_LIMIT',
    schema: size('BACKUP_MEMORY_LIMIT', 48 * 1024 * 1024),
  },
  allowIncomplete: {
    env: 'BACKUP_ALLOW_INCOMPLETE',
    option: 'engine:allowIncomplete',
    schema: bool('BACKUP_ALLOW_INCOMPLETE'),
  },
  retentionDays: {
    env: 'BACKUP_RETENTION_DAYS',
    option: 'engine:retentionDays',
    schema: int('BACKUP_RETENTION_DAYS').pipe(retentionDaysField),
  },
  keepLast: { env: 'BACKUP_KEEP_LAST', schema: int('BACKUP_KEEP_LAST') },
  keepDaily: { env: 'BACKUP_KEEP_DAILY', schema: int('BACKUP_KEEP_DAILY') },
  keepWeekly: { env: 'BACKUP_KEEP_WEEKLY', schema: int('BACKUP_KEEP_WEEKLY') },
  keepMonthly: { env: 'BACKUP_KEEP_MONTHLY', schema: int('BACKUP_KEEP_MONTHLY') },
  smtpHost: {
    env: 'SMTP_HOST',
    option: 'smtp:host',
    schema: text('SMTP_HOST', 'smtp.example.com'),
  },
  smtpPort: { env: 'SMTP_PORT', option: 'smtp:port', schema: int('SMTP_PORT').pipe(smtpPort) },
  smtpUser: { env: 'SMTP_USER', option: 'smtp:user', schema: anyText('SMTP_USER') },
  smtpPass: { env: 'SMTP_PASS', option: 'smtp:pass', schema: anyText('SMTP_PASS'), secret: true },
  smtpFrom: {
    env: 'SMTP_FROM',
    schema: text('SMTP_FROM', 'backups@example.com').regex(
      /@/,
      'SMTP_FROM must be an e-mail address such as backups@example.com',
    ),
  },
  smtpSecure: { env: 'SMTP_SECURE', schema: bool('SMTP_SECURE') },
  smtpRequireTls: { env: 'SMTP_REQUIRE_TLS', schema: bool('SMTP_REQUIRE_TLS') },
  adminEmail: {
    env: 'ADMIN_EMAIL',
    option: 'smtp:to',
    schema: list('ops@example.com,cto@example.com'),
  },
  s3Bucket: {
    env: 'S3_BUCKET',
    option: 's3:bucket',
    schema: text('S3_BUCKET', 'my-backups').pipe(bucketField),
  },
  s3Prefix: {
    env: 'S3_PREFIX',
    option: 's3:prefix',
    schema: anyText('S3_PREFIX').pipe(prefixField),
  },
  s3Region: { env: 'S3_REGION', schema: text('S3_REGION', 'eu-west-1') },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    option: 's3:endpoint',
    schema: text('S3_ENDPOINT', 'http://127.0.0.1:9000').pipe(endpointField),
  },
  s3ForcePathStyle: { env: 'S3_FORCE_PATH_STYLE', schema: bool('S3_FORCE_PATH_STYLE') },
  awsAccessKeyId: {
    env: 'AWS_ACCESS_KEY_ID',
    option: 's3:accessKeyId',
    schema: text('AWS_ACCESS_KEY_ID', 'AKIA…'),
    secret: true,
  },
  awsSecretAccessKey: {
    env: 'AWS_SECRET_ACCESS_KEY',
    option: 's3:secretAccessKey',
    schema: text('AWS_SECRET_ACCESS_KEY', 'the secret key of AWS_ACCESS_KEY_ID'),
    secret: true,
  },
  encryptionRecipients: {
    env: 'BACKUP_ENCRYPTION_RECIPIENTS',
    option: 'age:recipients',
    schema: list('age1…,age1…'),
  },
  encryptionIdentityFile: {
    env: 'BACKUP_ENCRYPTION_IDENTITY_FILE',
    option: 'age:identities',
    schema: text('BACKUP_ENCRYPTION_IDENTITY_FILE', '/run/secrets/age-key.txt'),
  },
  healthMaxAgeHours: { env: 'HEALTH_MAX_AGE_HOURS', schema: positive('HEALTH_MAX_AGE_HOURS') },
  healthMinFreeBytes: { env: 'HEALTH_MIN_FREE_BYTES', schema: int('HEALTH_MIN_FREE_BYTES') },
  healthMaxDrillAgeDays: {
    env: 'HEALTH_MAX_DRILL_AGE_DAYS',
    schema: positive('HEALTH_MAX_DRILL_AGE_DAYS'),
  },
  logFile: { env: 'LOG_FILE', schema: text('LOG_FILE', '/var/log/lifeboat.log') },
  // Monitoring channels. URLs are secrets: their paths and queries hold the services' tokens.
  heartbeatUrl: {
    env: 'HEARTBEAT_URL',
    schema: httpUrl('HEARTBEAT_URL', 'https://hc-ping.com/<uuid>'),
    secret: true,
  },
  heartbeatStyle: {
    env: 'HEARTBEAT_STYLE',
    schema: z.enum(['healthchecks', 'uptime-kuma'], {
      error: 'HEARTBEAT_STYLE must be healthchecks or uptime-kuma',
    }),
  },
  webhookUrl: {
    env: 'WEBHOOK_URL',
    option: 'webhook:url',
    schema: z
      .string({ error: 'WEBHOOK_URL must be a URL such as https://hooks.example.com/lifeboat' })
      .pipe(urlField),
    secret: true,
  },
  webhookSecret: {
    env: 'WEBHOOK_SECRET',
    option: 'webhook:secret',
    schema: z.string({ error: 'WEBHOOK_SECRET must be text' }).pipe(secretField),
    secret: true,
  },
  webhookPreset: { env: 'WEBHOOK_PRESET', option: 'webhook:preset', schema: presetField },
  notifyOn: { env: 'NOTIFY_ON', schema: notifyOn('NOTIFY_ON') },
  smtpNotifyOn: { env: 'SMTP_NOTIFY_ON', schema: notifyOn('SMTP_NOTIFY_ON') },
  webhookNotifyOn: { env: 'WEBHOOK_NOTIFY_ON', schema: notifyOn('WEBHOOK_NOTIFY_ON') },
  metricsFile: {
    env: 'METRICS_FILE',
    schema: text('METRICS_FILE', '/var/lib/node_exporter/lifeboat.prom'),
  },
  schedule: { env: 'SCHEDULE', schema: cron('SCHEDULE') },
  // 0: any free port (the one chosen is logged); tests and side-cars use it.
  healthPort: {
    env: 'HEALTH_PORT',
    schema: int('HEALTH_PORT').pipe(
      z.number().max(65535, 'HEALTH_PORT must be a port number from 0 to 65535'),
    ),
  },
  healthHost: { env: 'HEALTH_HOST', schema: text('HEALTH_HOST', '0.0.0.0') },
  logRetentionDays: { env: 'LOG_RETENTION_DAYS', schema: int('LOG_RETENTION_DAYS') },
  logFormat: {
    env: 'LOG_FORMAT',
    schema: z.enum(['plain', 'json'], {
      error: 'LOG_FORMAT must be "plain" (readable lines) or "json" (one JSON object per line)',
    }),
  },
} as const;

export type SettingKey = keyof typeof SETTINGS;
type Out<K extends SettingKey> = z.output<(typeof SETTINGS)[K]['schema']>;
export type Settings = { [K in SettingKey]?: Out<K> };

export const settingKeys = Object.keys(SETTINGS) as SettingKey[];

export const isSecretSetting = (key: SettingKey) =>
  'secret' in SETTINGS[key] && SETTINGS[key].secret === true;
