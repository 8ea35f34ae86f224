import { z } from 'zod';

/** Comma lists come from the environment as strings and from a config file as arrays or strings. */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const int = (what: string) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/, `${what} must be a whole number`)])
    .transform(Number)
    .pipe(z.number().int().nonnegative());
const positive = (what: string) =>
  z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, `${what} must be a number`)])
    .transform(Number)
    .pipe(z.number().positive());
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** Every setting, by its config-file key; `ENV` names the environment variable. */
export const SETTINGS = {
  databaseUrl: { env: 'DATABASE_URL', schema: z.string().min(1), secret: true },
  postgresHost: { env: 'POSTGRES_HOST', schema: z.string().min(1) },
  postgresPort: { env: 'POSTGRES_PORT', schema: int('POSTGRES_PORT') },
  postgresUser: { env: 'POSTGRES_USER', schema: z.string().min(1) },
  postgresPassword: { env: 'POSTGRES_PASSWORD', schema: z.string(), secret: true },
  postgresDb: { env: 'POSTGRES_DB', schema: z.string().min(1) },
  backupDir: { env: 'BACKUP_DIR', schema: z.string().min(1) },
  backupPrefix: {
    env: 'BACKUP_PREFIX',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-" only'),
  },
  backupTables: { env: 'BACKUP_TABLES', schema: list },
  backupExcludeTables: { env: 'BACKUP_EXCLUDE_TABLES', schema: list },
  configFiles: { env: 'CONFIG_FILES', schema: list },
  sslDir: { env: 'SSL_DIR', schema: z.string().min(1) },
  retentionDays: { env: 'BACKUP_RETENTION_DAYS', schema: int('BACKUP_RETENTION_DAYS') },
  keepLast: { env: 'BACKUP_KEEP_LAST', schema: int('BACKUP_KEEP_LAST') },
  keepDaily: { env: 'BACKUP_KEEP_DAILY', schema: int('BACKUP_KEEP_DAILY') },
  keepWeekly: { env: 'BACKUP_KEEP_WEEKLY', schema: int('BACKUP_KEEP_WEEKLY') },
  keepMonthly: { env: 'BACKUP_KEEP_MONTHLY', schema: int('BACKUP_KEEP_MONTHLY') },
  smtpHost: { env: 'SMTP_HOST', schema: z.string().min(1) },
  smtpPort: { env: 'SMTP_PORT', schema: int('SMTP_PORT') },
  smtpUser: { env: 'SMTP_USER', schema: z.string() },
  smtpPass: { env: 'SMTP_PASS', schema: z.string(), secret: true },
  smtpFrom: { env: 'SMTP_FROM', schema: z.string().min(3) },
  smtpSecure: { env: 'SMTP_SECURE', schema: bool },
  adminEmail: { env: 'ADMIN_EMAIL', schema: list },
  s3Bucket: { env: 'S3_BUCKET', schema: z.string().min(1) },
  s3Prefix: { env: 'S3_PREFIX', schema: z.string() },
  s3Region: { env: 'S3_REGION', schema: z.string().min(1) },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    schema: z.string().url('S3_ENDPOINT must be a URL such as http://127.0.0.1:9000'),
  },
  s3ForcePathStyle: { env: 'S3_FORCE_PATH_STYLE', schema: bool },
  awsAccessKeyId: { env: 'AWS_ACCESS_KEY_ID', schema: z.string().min(1), secret: true },
  awsSecretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY', schema: z.string().min(1), secret: true },
  encryptionRecipients: { env: 'BACKUP_ENCRYPTION_RECIPIENTS', schema: list },
  encryptionIdentityFile: { env: 'BACKUP_ENCRYPTION_IDENTITY_FILE', schema: z.string().min(1) },
  healthMaxAgeHours: { env: 'HEALTH_MAX_AGE_HOURS', schema: positive('HEALTH_MAX_AGE_HOURS') },
  healthMinFreeBytes: { env: 'HEALTH_MIN_FREE_BYTES', schema: int('HEALTH_MIN_FREE_BYTES') },
  logFile: { env: 'LOG_FILE', schema: z.string().min(1) },
  logRetentionDays: { env: 'LOG_RETENTION_DAYS', schema: int('LOG_RETENTION_DAYS') },
} as const;

export type SettingKey = keyof typeof SETTINGS;
type Out<K extends SettingKey> = z.output<(typeof SETTINGS)[K]['schema']>;
export type Settings = { [K in SettingKey]?: Out<K> };

export const settingKeys = Object.keys(SETTINGS) as SettingKey[];

export const isSecretSetting = (key: SettingKey) =>
  'secret' in SETTINGS[key] && SETTINGS[key].secret === true;
