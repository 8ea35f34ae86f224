import { setErrorHints } from '@lifeboat/core';
import { ENV_ERROR_HINTS } from '@lifeboat/preset-env';

/**
 * What to do about an error, in the CLI's words: its environment variables, flags and commands.
 * The SDK's catalogues (core's and each plugin's) name options only; the CLI puts these in their
 * place for every error made once it is loaded (messages, --json, history, notifications).
 * The plugins' codes are typed through their declarations (@lifeboat/preset-env's wiring imports
 * them, lazily: no plugin is loaded here).
 */
export const CLI_ERROR_HINTS = {
  BACKUP_INCOMPLETE:
    'Set BACKUP_ALLOW_INCOMPLETE=true (--allow-incomplete, "allowIncomplete" in the config file) to back up the rest; the archive is then marked incomplete.',
  STORAGE_NOT_FOUND: 'Check BACKUP_DIR (or the S3 settings); `lifeboat backup` creates the folder.',
  DECRYPTION_FAILED: 'Check BACKUP_ENCRYPTION_IDENTITY_FILE holds the right age identity.',
  IDENTITY_REQUIRED: 'Set BACKUP_ENCRYPTION_IDENTITY_FILE.',
  CONFIRMATION_REQUIRED:
    'Check the target named above; on a terminal, type its name when asked; elsewhere pass --yes.',
  NOT_FOUND: 'Check the name with `lifeboat list`.',
  NO_ARCHIVES: 'Run `lifeboat backup` first.',
  TABLE_NOT_FOUND: 'Check BACKUP_TABLES / --tables against the database or archive.',
  TARGET_NOT_EMPTY:
    'Restore into a new database (--target-database NAME). Only if this database is meant to lose everything it holds now: --clean, which asks you to confirm its name.',
  TARGET_REQUIRED:
    'Name the target: --target-database NAME (created if absent) or --target-url; to restore into the configured database itself, --in-place.',
  RESTORE_VERSION_NEWER:
    'Restore into a server of the same major version or newer, or try anyway with --allow-newer-archive.',
  /** A restore of a section whose source is not configured. */
  'source-missing:postgres': 'Configure the database (DATABASE_URL or POSTGRES_*).',
  /** A backup with no source configured. */
  'sources:none': 'Set DATABASE_URL (or POSTGRES_DB), CONFIG_FILES or SSL_DIR.',
  /** An encrypted archive that no configured identity opens, or with no identity at all. */
  'identity:wrong':
    'Set BACKUP_ENCRYPTION_IDENTITY_FILE to the secret key of one of the recipients the archive was encrypted to.',
  /** The plugins' situations whose hints name a command or a flag. */
  'local:missing': 'Check BACKUP_DIR; `lifeboat backup` creates the folder.',
  'postgres:exclude-on-restore':
    'leave tables out at backup time (exclude table in BACKUP_FILTER), or restore the others with include table / --tables',
  'identity:required':
    'Set BACKUP_ENCRYPTION_IDENTITY_FILE to the age identity file (age-keygen output) matching a recipient.',
} as const;

setErrorHints({ ...ENV_ERROR_HINTS, ...CLI_ERROR_HINTS });
