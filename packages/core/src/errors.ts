/**
 * One error class for the whole tool. `code` is stable (scripts and monitoring match on it),
 * `hint` says what to do, `retryable` tells wrappers whether trying again can help.
 */
export const errorCodes = {
  CONFIG_INVALID: {
    message: 'The configuration is invalid',
    hint: 'Fix the setting named in the message.',
  },
  SOURCE_FAILED: { message: 'A source failed', hint: 'See the cause for the source that failed.' },
  BACKUP_INCOMPLETE: {
    message: 'Some objects cannot be backed up faithfully',
    hint: 'Set BACKUP_ALLOW_INCOMPLETE=true (--allow-incomplete, "allowIncomplete" in the config file) to back up the rest; the archive is then marked incomplete.',
  },
  FILE_MISSING: {
    message: 'A configured file does not exist',
    hint: 'Create it, fix the path, or mark it optional.',
  },
  FILE_CHANGED: {
    message: 'A file changed while it was being read',
    hint: 'Run the backup again.',
  },
  FILE_EXISTS: {
    message: 'The target file exists',
    hint: 'Pass overwrite (keeps a .bak copy) or choose another directory.',
  },
  NOT_FOUND: { message: 'The object was not found', hint: 'Check the name with `lifeboat list`.' },
  ALREADY_EXISTS: {
    message: 'An object with that name exists',
    hint: 'Archives are never overwritten; retry the backup.',
  },
  STORAGE_FAILED: {
    message: 'The storage failed',
    hint: 'Check that the storage is reachable and writable.',
  },
  STORAGE_NOT_FOUND: {
    message: 'The storage folder does not exist',
    hint: 'Check BACKUP_DIR (or the S3 settings); `lifeboat backup` creates the folder.',
  },
  STORAGE_TIMEOUT: {
    message: 'The storage did not answer in time',
    hint: 'Check that the storage (a network mount, the S3 endpoint) is reachable and responsive.',
  },
  STORAGE_FULL: { message: 'The storage is full', hint: 'Free space or lower the retention.' },
  PERMISSION_DENIED: {
    message: 'Permission denied',
    hint: 'Check the owner and mode of the path.',
  },
  ARCHIVE_CORRUPT: {
    message: 'The archive is corrupt',
    hint: 'Use another archive; this one cannot be trusted.',
  },
  ARCHIVE_TRUNCATED: {
    message: 'The archive is truncated',
    hint: 'Use another archive; this one is incomplete.',
  },
  ARCHIVE_NOT_GZIP: {
    message: 'The archive is not a gzip file',
    hint: 'Check that this is a Lifeboat .tar.gz archive.',
  },
  ARCHIVE_NO_MANIFEST: {
    message: 'The archive has no manifest.json',
    hint: 'This is not a complete Lifeboat archive.',
  },
  MANIFEST_INVALID: { message: 'The archive manifest is invalid', hint: 'Use another archive.' },
  FORMAT_UNSUPPORTED: {
    message: 'The archive format version is newer than this Lifeboat',
    hint: 'Upgrade Lifeboat to read it.',
  },
  ENTRY_MISMATCH: {
    message: 'An archive entry does not match the manifest',
    hint: 'Use another archive; this one was altered or damaged.',
  },
  ENTRY_MISSING: {
    message: 'An entry the manifest lists is missing',
    hint: 'Use another archive.',
  },
  ENTRY_UNEXPECTED: {
    message: 'The archive holds an entry the manifest does not list',
    hint: 'Use another archive.',
  },
  ENTRY_DUPLICATE: {
    message: 'The archive holds the same entry twice',
    hint: 'Use another archive; it was altered.',
  },
  UNSAFE_PATH: {
    message: 'An archive entry points outside its folder',
    hint: 'The archive is refused; do not extract it by hand either.',
  },
  ARCHIVE_TOO_LARGE: {
    message: 'The archive expands far beyond its size',
    hint: 'Refused as a possible decompression bomb.',
  },
  DECRYPTION_FAILED: {
    message: 'The archive could not be decrypted',
    hint: 'Check BACKUP_ENCRYPTION_IDENTITY_FILE holds the right age identity.',
  },
  IDENTITY_REQUIRED: {
    message: 'The archive is encrypted and no identity was given',
    hint: 'Set BACKUP_ENCRYPTION_IDENTITY_FILE.',
  },
  DATABASE_UNREACHABLE: {
    message: 'The database cannot be reached',
    hint: 'Check host, port and that the server runs.',
  },
  DATABASE_AUTH_FAILED: {
    message: 'The database refused the credentials',
    hint: 'Check the user and password.',
  },
  DATABASE_TLS_FAILED: {
    message: 'The SSL connection to the database failed',
    hint: 'Check sslmode and the root certificate (PGSSLROOTCERT, sslrootcert in the URL).',
  },
  DATABASE_FAILED: { message: 'A database operation failed', hint: 'See the cause.' },
  TABLE_NOT_FOUND: {
    message: 'A selected table does not exist',
    hint: 'Check BACKUP_TABLES / --tables against the database or archive.',
  },
  TARGET_NOT_EMPTY: {
    message: 'The target database is not empty',
    hint: 'Restore into a new database (--target-database NAME). Only if this database is meant to lose everything it holds now: --clean, which asks you to confirm its name.',
  },
  TARGET_REQUIRED: {
    message: 'No restore target was named',
    hint: 'Name the target: --target-database NAME (created if absent) or --target-url; to restore into the configured database itself, --in-place.',
  },
  CONFIRMATION_REQUIRED: {
    message: 'The restore would replace what the target holds and was not confirmed',
    hint: 'Check the target named above; on a terminal, type its name when asked; elsewhere pass --yes.',
  },
  RESTORE_FAILED: {
    message: 'The restore failed',
    hint: 'The target was left as it was; see the cause.',
  },
  RESTORE_VERSION_NEWER: {
    message: "The archive comes from a newer PostgreSQL than the restore's target",
    hint: 'Restore into a server of the same major version or newer, or try anyway with --allow-newer-archive.',
  },
  RESTORE_UNSUPPORTED: {
    message: 'The restore cannot do what was asked with this archive',
    hint: 'Restore without the option named in the message.',
  },
  VERIFY_FAILED: { message: 'Verification found problems', hint: 'See the listed problems.' },
  NOTIFY_FAILED: {
    message: 'A notification could not be delivered',
    hint: 'Check the mail server settings.',
  },
  LOCKED: {
    message: 'Another backup or prune holds the lock',
    hint: 'Wait for it to finish, or remove a stale lock.',
  },
  ABORTED: { message: 'The operation was aborted', hint: 'Run it again.' },
  NO_ARCHIVES: { message: 'The storage holds no archive', hint: 'Run `lifeboat backup` first.' },
  INTERNAL: { message: 'An internal error occurred', hint: 'Please report it with the log.' },
} as const satisfies Record<string, { message: string; hint: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface LifeboatErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  hint?: string;
  details?: Record<string, unknown>;
}

export class LifeboatError extends Error {
  override readonly name = 'LifeboatError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: LifeboatErrorOptions = {}) {
    super(message ?? errorCodes[code].message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint ?? errorCodes[code].hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isLifeboatError(error: unknown, code?: ErrorCode): error is LifeboatError {
  return error instanceof LifeboatError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a LifeboatError, keeping the original as `cause`. */
export function toLifeboatError(error: unknown, fallback: ErrorCode = 'INTERNAL'): LifeboatError {
  if (error instanceof LifeboatError) return error;
  if (isAbortError(error)) return new LifeboatError('ABORTED', undefined, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new LifeboatError(fallback, `${errorCodes[fallback].message}: ${message}`, {
    cause: error,
  });
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR')
  );
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new LifeboatError('ABORTED', undefined, { cause: signal.reason });
  }
}
