/** What a code means by default: the message of an error thrown without one, and what to do. */
export interface ErrorDefinition {
  message: string;
  hint: string;
}

/**
 * One error class for the whole tool. `code` is stable (scripts and monitoring match on it),
 * `hint` says what to do, `retryable` tells wrappers whether trying again can help.
 *
 * This catalogue holds the engine's own codes. Each plugin declares its own with
 * `defineErrorCodes` (better-auth's `$ERROR_CODES`), merged into the one catalogue errors read;
 * a host (the CLI) may replace hints with ones that name its own settings (`setErrorHints`).
 */
export const errorCodes = {
  CONFIG_INVALID: {
    message: 'The configuration is invalid',
    hint: 'Fix the setting named in the message.',
  },
  SOURCE_FAILED: { message: 'A source failed', hint: 'See the cause for the source that failed.' },
  BACKUP_INCOMPLETE: {
    message: 'Some objects cannot be backed up faithfully',
    hint: 'Allow an incomplete backup (allowIncomplete) to back up the rest; the archive is then marked incomplete.',
  },
  FILE_CHANGED: {
    message: 'A file changed while it was being read',
    hint: 'Run the backup again.',
  },
  NOT_FOUND: {
    message: 'The object was not found',
    hint: 'Check the name against the list of archives.',
  },
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
    hint: 'Check the storage settings; a backup creates the folder.',
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
    hint: 'Check that the age identity given is the one the archive was encrypted to.',
  },
  IDENTITY_REQUIRED: {
    message: 'The archive is encrypted and no identity was given',
    hint: 'Give the age identity (ageCipher({ identity })).',
  },
  CONFIRMATION_REQUIRED: {
    message: 'The restore would replace what the target holds and was not confirmed',
    hint: 'Check the target named above, then confirm the restore (the confirm option).',
  },
  RESTORE_FAILED: {
    message: 'The restore failed',
    hint: 'The target was left as it was; see the cause.',
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
  NO_ARCHIVES: { message: 'The storage holds no archive', hint: 'Run a backup first.' },
  INTERNAL: { message: 'An internal error occurred', hint: 'Please report it with the log.' },
} as const satisfies Record<string, { message: string; hint: string }>;

/** The engine's own codes. */
export type CoreErrorCode = keyof typeof errorCodes;

/**
 * The codes plugins declare, added by declaration merging beside each plugin's
 * `defineErrorCodes` call (see `@lifeboat/plugin-postgres`'s `POSTGRES_ERROR_CODES`):
 * `declare module '@lifeboat/core' { interface PluginErrorCodes extends Codes {} }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the plugins' declaration merging
export interface PluginErrorCodes {}

/** Every code: the engine's and the plugins', one typed set. */
export type ErrorCode = CoreErrorCode | (keyof PluginErrorCodes & string);

const catalogue = new Map<string, ErrorDefinition>(Object.entries(errorCodes));
const hostHints = new Map<string, string>();

/**
 * Declares a plugin's own error codes and merges them into the catalogue (better-auth's
 * `$ERROR_CODES`). A code declared twice with another meaning is a programming error.
 */
export function defineErrorCodes<const T extends Record<string, ErrorDefinition>>(codes: T): T {
  for (const [code, definition] of Object.entries(codes)) {
    const known = catalogue.get(code);
    if (known && known.message !== definition.message)
      throw new Error(`Error code ${code} is declared twice with different meanings`);
    catalogue.set(code, definition);
  }
  return codes;
}

/**
 * Hints a host gives for codes, replacing the catalogue's: the CLI names its environment
 * variables and flags (`BACKUP_DIR`, `--target-database`), which the SDK knows nothing of.
 */
export function setErrorHints(
  hints: Partial<Record<ErrorCode | `${string}:${string}`, string>>,
): void {
  for (const [code, hint] of Object.entries(hints)) if (hint) hostHints.set(code, hint);
}

/**
 * A hint for a situation finer than a code (`source-missing:postgres`): the host's, if it gave
 * one for that key, else `fallback`.
 */
export function hostHint(key: `${string}:${string}`, fallback: string): string {
  return hostHints.get(key) ?? fallback;
}

/** Whether a code is in the catalogue (the engine's, or one a loaded plugin declared). */
export function isErrorCode(code: string): code is ErrorCode {
  return catalogue.has(code);
}

/** The definition of a code, with the host's hint if it gave one. */
export function errorDefinition(code: string): ErrorDefinition {
  const definition = catalogue.get(code) ?? { message: `Error ${code}`, hint: 'See the cause.' };
  const hint = hostHints.get(code);
  return hint ? { ...definition, hint } : definition;
}

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
    const definition = errorDefinition(code);
    super(message ?? definition.message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint ?? definition.hint;
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
  return new LifeboatError(fallback, `${errorDefinition(fallback).message}: ${message}`, {
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
