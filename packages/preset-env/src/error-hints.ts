import { SETTINGS, settingKeys } from './settings.js';

/**
 * The environment variable of each plugin option a setting feeds (`postgres:jobs`: BACKUP_JOBS):
 * what the plugins' messages call their options (`hostHint('postgres:jobs', 'jobs')`).
 */
const OPTION_NAMES: Record<string, string> = Object.fromEntries(
  settingKeys.flatMap((key) => {
    const setting: { env: string; option?: string } = SETTINGS[key];
    return setting.option ? [[setting.option, setting.env]] : [];
  }),
);

/**
 * Hints in the words of these settings: their environment variables. The plugins' own hints
 * and messages name their options (`dir`, `bucket`, `user`); a host that reads its settings from
 * the environment installs these instead with core's `setErrorHints(ENV_ERROR_HINTS)` (the CLI
 * does, beside its own naming its flags and commands). Keys are the plugins' situations
 * (`hostHint('s3:unreachable', …)`) and options (`hostHint('s3:bucket', 'bucket')`).
 */
export const ENV_ERROR_HINTS = {
  ...OPTION_NAMES,
  'postgres:schema-not-found':
    'check the include schema lines (BACKUP_SCHEMAS) against the database',
  'config-files:missing':
    'Fix CONFIG_FILES / SSL_DIR, or mark a file optional with a leading "?" (CONFIG_FILES=.env,?local.conf).',
  'local:not-a-disk': 'Set BACKUP_DIR to a folder on a disk (not /proc, /sys or /dev).',
  's3:no-bucket': 'Create the bucket, or fix S3_BUCKET / S3_ENDPOINT.',
  's3:unreachable': 'Check S3_ENDPOINT / S3_REGION and the network; the run can be retried.',
  's3:no-credentials':
    'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile / instance role).',
  's3:credentials-refused':
    'Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and the session token, if any) for this endpoint.',
  's3:access-denied':
    'Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and that their policy allows s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on this bucket and prefix.',
  's3:wrong-region': 'Set S3_REGION to the region of the bucket.',
  'smtp:auth': 'Check SMTP_USER and SMTP_PASS, and that the server offers AUTH on this port.',
  'smtp:tls':
    'Check SMTP_SECURE against the port (465 is TLS from the start, 587 upgrades with STARTTLS) and the server certificate.',
  'smtp:envelope': 'The server refused the sender or a recipient: check SMTP_FROM and ADMIN_EMAIL.',
  'smtp:connection':
    'Check SMTP_HOST and SMTP_PORT, and that the mail server runs and is reachable from here.',
  'smtp:other': 'Check the mail server settings (SMTP_*).',
  // What `audit` says to do about a finding.
  'audit:secrets-in-logs':
    'Remove those lines or files, rotate the leaked secrets, and keep LOG_FILE for Lifeboat only.',
  'audit:unencrypted-archives':
    'Set BACKUP_ENCRYPTION_RECIPIENTS to an age public key so new archives are encrypted.',
  'audit:unencrypted-config': 'Set BACKUP_ENCRYPTION_RECIPIENTS.',
  'audit:unsigned-webhook':
    'Set WEBHOOK_SECRET and verify the X-Lifeboat-Signature header in the receiver.',
  'audit:no-retention':
    'Set BACKUP_RETENTION_DAYS=30, or BACKUP_KEEP_DAILY=7 BACKUP_KEEP_WEEKLY=4 BACKUP_KEEP_MONTHLY=12.',
  'audit:retention-too-short':
    'Keep more: BACKUP_RETENTION_DAYS=30 or BACKUP_KEEP_DAILY=7 BACKUP_KEEP_WEEKLY=4 BACKUP_KEEP_MONTHLY=12.',
} as const;
