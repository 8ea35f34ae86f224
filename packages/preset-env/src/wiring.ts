import { readFileSync } from 'node:fs';
import {
  type AnySource,
  type ArchiveCipher,
  ageCipher,
  createEngine,
  type Engine,
  type Heartbeat,
  heartbeat,
  LifeboatError,
  type Notifier,
  notifyOn,
  parseAgeIdentityFile,
  type RetryingStorageOptions,
  registerSecret,
  retryingStorage,
  type Storage,
} from '@lifeboat/core';
// The plugins' own option shapes (their zod schemas' input), as types only: a plugin is loaded
// when the settings name it, and its schema then parses these with its own defaults and bounds
// (the notifiers' factories take theirs directly).
import type { ConfigFilesOptions } from '@lifeboat/plugin-config-files';
import type { PostgresSourceOptions } from '@lifeboat/plugin-postgres';
import type { LocalStorageOptions } from '@lifeboat/storage-local';
import type { S3StorageOptions } from '@lifeboat/storage-s3';
import { memoryPlan } from './memory-plan.js';
import type { Settings } from './settings.js';

export interface WiringOptions {
  /** Called with a storage warning (a folder others can read). */
  onWarning?: (code: string, message: string) => void;
  /** Fail early when nothing is configured to back up (the backup command). */
  requireSources?: boolean;
  /** How the storage tries again after a retryable failure (core's retryingStorage defaults). */
  retry?: RetryingStorageOptions;
}

export const hasDatabase = (s: Settings) => Boolean(s.databaseUrl || s.postgresDb);
export const hasConfigFiles = (s: Settings) => Boolean(s.configFiles?.length || s.sslDir);

/** `?path` (CONFIG_FILES=.env.production,?nginx.local.conf): missing is a warning, not a failure. */
const optionalPath = (p: string) =>
  p.startsWith('?') ? { path: p.slice(1), optional: true } : { path: p, optional: false };

/** BACKUP_FILTER / backup --filter: the file's text, named in errors and the manifest. */
function readFilterFile(path: string): { text: string; name: string } {
  try {
    return { text: readFileSync(path, 'utf8'), name: path };
  } catch (error) {
    throw new LifeboatError('CONFIG_INVALID', `BACKUP_FILTER: cannot read ${path}`, {
      cause: error,
      hint: 'name a filter file that exists and is readable (lines: include|exclude table|schema PATTERN, exclude table_data PATTERN)',
    });
  }
}

export async function buildSources(s: Settings): Promise<AnySource[]> {
  const sources: AnySource[] = [];
  if (hasDatabase(s)) {
    const plan = memoryPlan(s.memoryLimit);
    // host, port and user default in the plugin's schema (localhost, 5432, postgres).
    const options: PostgresSourceOptions = {
      ...(s.databaseUrl ? { connectionString: s.databaseUrl } : {}),
      ...(s.postgresHost ? { host: s.postgresHost } : {}),
      ...(s.postgresPort !== undefined ? { port: s.postgresPort } : {}),
      ...(s.postgresUser ? { user: s.postgresUser } : {}),
      ...(s.postgresPassword !== undefined ? { password: s.postgresPassword } : {}),
      ...(s.postgresDb ? { database: s.postgresDb } : {}),
      ...(s.backupTables?.length ? { tables: s.backupTables } : {}),
      ...(s.backupExcludeTables?.length ? { excludeTables: s.backupExcludeTables } : {}),
      ...(s.backupSchemas?.length ? { schemas: s.backupSchemas } : {}),
      ...(s.backupExcludeSchemas?.length ? { excludeSchemas: s.backupExcludeSchemas } : {}),
      ...(s.backupExcludeTableData?.length ? { excludeTableData: s.backupExcludeTableData } : {}),
      ...(s.backupFilter ? { filter: readFilterFile(s.backupFilter) } : {}),
      ...(s.jobs ? { jobs: s.jobs } : plan.jobs ? { jobs: plan.jobs } : {}),
      ...(plan.partBytes ? { partBytes: plan.partBytes } : {}),
      ...(s.backupGlobals && s.backupGlobals !== 'none' ? { globals: s.backupGlobals } : {}),
    };
    const { postgresSource } = await import('@lifeboat/plugin-postgres');
    sources.push(postgresSource(options));
  }
  if (hasConfigFiles(s)) {
    const options: ConfigFilesOptions = {
      files: (s.configFiles ?? []).map((f) => ({ ...optionalPath(f) })),
      directories: s.sslDir ? [{ ...optionalPath(s.sslDir), name: 'ssl' }] : [],
    };
    const { configFilesSource } = await import('@lifeboat/plugin-config-files');
    sources.push(configFilesSource(options));
  }
  return sources;
}

/**
 * The storage the settings name, wrapped in core's retryingStorage: a storage call that failed
 * with a retryable error (an S3 endpoint that restarted, a busy file system) is tried again
 * with backoff before the run fails; decisions and aborts are not.
 */
export async function buildStorage(s: Settings, options: WiringOptions = {}): Promise<Storage> {
  return retryingStorage(await pluginStorage(s, options), options.retry);
}

async function pluginStorage(s: Settings, options: WiringOptions): Promise<Storage> {
  if (s.s3Bucket) {
    const plan = memoryPlan(s.memoryLimit);
    // The region defaults in the plugin's schema (us-east-1).
    const s3: S3StorageOptions = {
      bucket: s.s3Bucket,
      ...(s.s3Prefix ? { prefix: s.s3Prefix } : {}),
      ...(s.s3Region ? { region: s.s3Region } : {}),
      ...(s.s3Endpoint ? { endpoint: s.s3Endpoint } : {}),
      ...(s.s3ForcePathStyle !== undefined ? { forcePathStyle: s.s3ForcePathStyle } : {}),
      ...(s.awsAccessKeyId ? { accessKeyId: s.awsAccessKeyId } : {}),
      ...(s.awsSecretAccessKey ? { secretAccessKey: s.awsSecretAccessKey } : {}),
      // Upload buffers follow the memory plan (BACKUP_MEMORY_LIMIT): parts in flight are held whole.
      partSizeBytes: plan.uploadPartBytes,
      queueSize: plan.uploadQueue,
    };
    const { s3Storage } = await import('@lifeboat/storage-s3');
    return s3Storage(s3);
  }
  // The plugin requires a folder; the settings' default is ./backups.
  const local: LocalStorageOptions = {
    dir: s.backupDir ?? './backups',
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  };
  const { localStorage } = await import('@lifeboat/storage-local');
  return localStorage(local);
}

export async function buildNotifiers(s: Settings): Promise<Notifier[]> {
  const notifiers: Notifier[] = [];
  // NOTIFY_ON for every channel, SMTP_NOTIFY_ON / WEBHOOK_NOTIFY_ON for one.
  const only = (notifier: Notifier, on: Settings['notifyOn']) => {
    const categories = on ?? s.notifyOn;
    return categories ? notifyOn(notifier, categories) : notifier;
  };
  if (s.smtpHost) notifiers.push(only(await buildSmtpNotifier(s, s.smtpHost), s.smtpNotifyOn));
  if (s.webhookUrl) {
    const { webhookNotifier } = await import('@lifeboat/notifier-webhook');
    notifiers.push(
      only(
        webhookNotifier({
          url: s.webhookUrl,
          ...(s.webhookSecret ? { secret: s.webhookSecret } : {}),
          ...(s.webhookPreset ? { preset: s.webhookPreset } : {}),
        }),
        s.webhookNotifyOn,
      ),
    );
  }
  return notifiers;
}

/** HEARTBEAT_URL: pinged at the start, success and failure of every backup. */
export function buildHeartbeat(s: Settings): Heartbeat | undefined {
  if (!s.heartbeatUrl) return undefined;
  return heartbeat({
    url: s.heartbeatUrl,
    ...(s.heartbeatStyle ? { style: s.heartbeatStyle } : {}),
  });
}

/** The URLs `audit` checks: a token over plain http, a webhook without a secret. */
export function monitoringEndpoints(
  s: Settings,
): { name: string; url: string; signed?: boolean }[] {
  return [
    ...(s.heartbeatUrl ? [{ name: 'HEARTBEAT_URL', url: s.heartbeatUrl }] : []),
    ...(s.webhookUrl
      ? [{ name: 'WEBHOOK_URL', url: s.webhookUrl, signed: Boolean(s.webhookSecret) }]
      : []),
  ];
}

async function buildSmtpNotifier(s: Settings, host: string): Promise<Notifier> {
  if (!s.adminEmail?.length) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'SMTP_HOST is set but ADMIN_EMAIL is not: name who receives the e-mails',
    );
  }
  const { smtpNotifier } = await import('@lifeboat/notifier-smtp');
  return smtpNotifier({
    host,
    ...(s.smtpPort !== undefined ? { port: s.smtpPort } : {}),
    ...(s.smtpSecure !== undefined ? { secure: s.smtpSecure } : {}),
    ...(s.smtpRequireTls !== undefined ? { requireTLS: s.smtpRequireTls } : {}),
    ...(s.smtpUser ? { user: s.smtpUser } : {}),
    ...(s.smtpPass ? { pass: s.smtpPass } : {}),
    from: s.smtpFrom ?? `lifeboat@${host}`,
    to: s.adminEmail,
  });
}

export async function buildCipher(s: Settings): Promise<ArchiveCipher | undefined> {
  if (!s.encryptionRecipients?.length && !s.encryptionIdentityFile) return undefined;
  let identities: string[] = [];
  if (s.encryptionIdentityFile) {
    let text: string;
    try {
      text = readFileSync(s.encryptionIdentityFile, 'utf8');
    } catch (error) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `BACKUP_ENCRYPTION_IDENTITY_FILE: cannot read ${s.encryptionIdentityFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    identities = parseAgeIdentityFile(
      text,
      `BACKUP_ENCRYPTION_IDENTITY_FILE ${s.encryptionIdentityFile}`,
    );
    for (const identity of identities) registerSecret(identity);
  }
  return ageCipher({
    recipients: s.encryptionRecipients ?? [],
    ...(identities.length ? { identities } : {}),
  });
}

/** Builds the engine the settings describe. */
export async function buildEngine(s: Settings, options: WiringOptions = {}): Promise<Engine> {
  const sources = await buildSources(s);
  if (sources.length === 0 && options.requireSources) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'Nothing to back up: set DATABASE_URL (or POSTGRES_DB), CONFIG_FILES or SSL_DIR',
      { hint: 'See `lifeboat --help` for the settings.' },
    );
  }
  const cipher = await buildCipher(s);
  const plan = memoryPlan(s.memoryLimit);
  return createEngine({
    sources,
    storage: await buildStorage(s, options),
    notifiers: await buildNotifiers(s),
    ...(s.backupPrefix ? { prefix: s.backupPrefix } : {}),
    ...(s.compressionLevel ? { compressionLevel: s.compressionLevel } : {}),
    ...(plan.compressionConcurrency ? { compressionConcurrency: plan.compressionConcurrency } : {}),
    ...(s.allowIncomplete ? { allowIncomplete: true } : {}),
    ...(cipher ? { cipher } : {}),
    retention: {
      days: s.retentionDays ?? 30,
      ...(s.keepLast ? { keepLast: s.keepLast } : {}),
      ...(s.keepDaily ? { keepDaily: s.keepDaily } : {}),
      ...(s.keepWeekly ? { keepWeekly: s.keepWeekly } : {}),
      ...(s.keepMonthly ? { keepMonthly: s.keepMonthly } : {}),
    },
    health: {
      maxAgeHours: s.healthMaxAgeHours ?? 25,
      minFreeBytes: s.healthMinFreeBytes ?? 1024 * 1024 * 1024,
      maxDrillAgeDays: s.healthMaxDrillAgeDays ?? 35,
    },
  });
}
