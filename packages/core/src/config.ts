import { z } from 'zod';
import { ARCHIVE_PREFIX_PATTERN } from './archive/layout.js';
import type { ArchiveCipher } from './cipher.js';
import type { AnySource, Notifier, Storage } from './contracts.js';
import { hostHint, LifeboatError } from './errors.js';

const isObjectWithId = (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';

/*
 * Engine options a host checks with its other settings (the environment preset does): declared
 * here once, used by the engine's schema. Messages name the option as the host calls it.
 */

/** The archives' name prefix. */
export const archivePrefixField = z
  .string()
  .regex(
    ARCHIVE_PREFIX_PATTERN,
    'use letters, digits, ".", "_" and "-" only, starting with a letter or digit (such as critical_backup)',
  );

const levelMessage = () =>
  `${hostHint('engine:compressionLevel', 'compressionLevel')} must be a digit from 1 to 9`;
/** Gzip's level. */
export const compressionLevelField = z
  .number({ error: levelMessage })
  .int({ error: levelMessage })
  .min(1, { error: levelMessage })
  .max(9, { error: levelMessage });

/** Archives younger than this many days are kept. */
export const retentionDaysField = z
  .number()
  .int()
  .min(1, {
    error: () =>
      `${hostHint('engine:retentionDays', 'days')} must be 1 or more (days to keep archives)`,
  });

export const retentionSchema = z
  .object({
    days: retentionDaysField.optional(),
    keepLast: z.number().int().min(1).optional(),
    keepDaily: z.number().int().min(1).optional(),
    keepWeekly: z.number().int().min(1).optional(),
    keepMonthly: z.number().int().min(1).optional(),
  })
  .strict();

export type RetentionPolicy = z.infer<typeof retentionSchema>;

export const engineConfigSchema = z
  .object({
    sources: z
      .array(z.custom<AnySource>(isObjectWithId, 'each source must be a Lifeboat source plugin'))
      .default([]),
    storage: z.custom<Storage>(isObjectWithId, 'storage must be a Lifeboat storage plugin'),
    notifiers: z
      .array(z.custom<Notifier>(isObjectWithId, 'each notifier must be a Lifeboat notifier plugin'))
      .default([]),
    prefix: archivePrefixField.default('critical_backup'),
    // Level 4 measured (bench/results): within a few percent of level 6's size at ~15% less CPU.
    compressionLevel: compressionLevelField.default(4),
    /**
     * Gzip members compressed (backup) or inflated (restore, verify) at once on the thread pool,
     * each holding about 1 MiB in and its output: 1 for small containers.
     */
    compressionConcurrency: z.number().int().min(1).max(64).default(4),
    cipher: z.custom<ArchiveCipher>(isObjectWithId, 'cipher must be an archive cipher').optional(),
    retention: retentionSchema.default({ days: 30 }),
    /** Prune after every successful backup. */
    pruneAfterBackup: z.boolean().default(true),
    /**
     * A source that cannot keep some objects fails the backup (BACKUP_INCOMPLETE) unless this is
     * set; then the archive is marked incomplete and health warns.
     */
    allowIncomplete: z.boolean().default(false),
    health: z
      .object({
        maxAgeHours: z.number().positive().default(25),
        minFreeBytes: z
          .number()
          .int()
          .nonnegative()
          .default(1024 * 1024 * 1024),
        /** A check that has not answered after this long is CRITICAL (health always answers). */
        checkTimeoutMs: z.number().int().positive().default(30_000),
        /** A restore drill (verify --deep) older than this is a WARNING: the guide's monthly test. */
        maxDrillAgeDays: z.number().positive().default(35),
      })
      .strict()
      .default({
        maxAgeHours: 25,
        minFreeBytes: 1024 * 1024 * 1024,
        checkTimeoutMs: 30_000,
        maxDrillAgeDays: 35,
      }),
    lock: z
      .object({
        /** Wait this long for another run's lock; 0 fails at once with LOCKED. */
        waitMs: z.number().int().nonnegative().default(0),
        /** A lock older than this, not refreshed, is stale and taken over. */
        staleMs: z
          .number()
          .int()
          .positive()
          .default(10 * 60 * 1000),
      })
      .strict()
      .default({ waitMs: 0, staleMs: 10 * 60 * 1000 }),
    /** Injected clock, for tests. */
    now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
  })
  .strict();

export type EngineConfig = z.input<typeof engineConfigSchema>;
export type ResolvedEngineConfig = z.output<typeof engineConfigSchema>;

/** Formats zod issues as one message a person understands: the setting, then what is wrong. */
export function formatIssues(error: z.ZodError, names: Record<string, string> = {}): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      const name = names[path] ?? (path || 'configuration');
      if (issue.code === 'unrecognized_keys') {
        return `${name}: unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      // A message that names its option already (`jobs must be…`) is not prefixed with it again.
      return issue.message.startsWith(`${name} `) ? issue.message : `${name}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses a zod schema and throws CONFIG_INVALID naming every bad setting. */
export function parseOptions<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `Invalid ${what} options: ${formatIssues(result.error)}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}
