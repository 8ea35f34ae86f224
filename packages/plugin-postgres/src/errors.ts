import {
  defineErrorCodes,
  type ErrorCode,
  isAbortError,
  LifeboatError,
  redact,
} from '@lifeboat/core';

/**
 * The postgres source's own error codes, merged into the one catalogue (the engine's codes stay
 * in core). Hints here name the SDK's options; the CLI gives its own, naming its flags.
 */
export const POSTGRES_ERROR_CODES = defineErrorCodes({
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
    hint: 'Check the selected tables against the database or archive.',
  },
  TARGET_NOT_EMPTY: {
    message: 'The target database is not empty',
    hint: 'Restore into a new database (targetDatabase). Only if this database is meant to lose everything it holds now: clean, confirmed with its name.',
  },
  TARGET_REQUIRED: {
    message: 'No restore target was named',
    hint: 'Name the target: targetDatabase (created if absent) or targetUrl; to restore into the configured database itself, inPlace.',
  },
  RESTORE_VERSION_NEWER: {
    message: "The archive comes from a newer PostgreSQL than the restore's target",
    hint: 'Restore into a server of the same major version or newer, or try anyway with allowNewerArchive.',
  },
});

type PostgresErrorCodes = typeof POSTGRES_ERROR_CODES;
declare module '@lifeboat/core' {
  interface PluginErrorCodes extends PostgresErrorCodes {}
}

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

export function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as PgErrorLike).code : undefined;
}

/** The server's message with its detail, never with a secret. */
export function pgMessage(error: unknown): string {
  if (!(error instanceof Error)) return redact(String(error));
  const e = error as PgErrorLike;
  const parts = [e.message ?? ''];
  if (e.detail) parts.push(`(${e.detail})`);
  return redact(parts.join(' '));
}

/** The server has no free connection slot (53300), directly or as a cause. */
export function isTooManyConnections(error: unknown): boolean {
  for (
    let e = error as { code?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === '53300') return true;
  }
  return false;
}

/** Connection lost: network, server shutdown or a terminated backend. */
export function isConnectionLoss(error: unknown): boolean {
  const code = pgCode(error);
  if (
    code &&
    (NETWORK_CODES.has(code) ||
      code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03')
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection (is )?closed|Client was closed|not queryable/i.test(
    message,
  );
}

/**
 * Maps anything `pg` throws to a LifeboatError. `what` says what was being done
 * ("copying table public.users"); the cause is kept for debugging.
 */
export function toPgLifeboatError(
  error: unknown,
  what: string,
  fallback: ErrorCode = 'DATABASE_FAILED',
  where?: string,
): LifeboatError {
  if (error instanceof LifeboatError) return error;
  if (isAbortError(error)) return new LifeboatError('ABORTED', undefined, { cause: error });
  const code = pgCode(error);
  const message = pgMessage(error);
  const at = where ? ` (${redact(where)})` : '';
  if (code === '28P01' || code === '28000') {
    return new LifeboatError(
      'DATABASE_AUTH_FAILED',
      `The database refused the credentials${at}: ${message}`,
      {
        cause: error,
        // pg_hba.conf has hostssl lines only for this client: the credentials are not the problem.
        ...(/no encryption/.test(message)
          ? {
              hint: 'The server takes only SSL connections from here: unset PGSSLMODE=disable (sslmode=disable in the URL), or set it to require or verify-full.',
            }
          : {}),
      },
    );
  }
  if (code === '57P01' || code === '57P02') {
    return new LifeboatError(
      fallback,
      `The server terminated the connection while ${what}${at}: ${message}`,
      {
        cause: error,
        retryable: true,
        hint: 'An administrator or the server ended the session; run it again.',
      },
    );
  }
  if (code && NETWORK_CODES.has(code)) {
    return new LifeboatError(
      'DATABASE_UNREACHABLE',
      `The database cannot be reached${at}: ${message}`,
      {
        cause: error,
        retryable: true,
      },
    );
  }
  if (code === '53300') {
    // too_many_connections: max_connections, or the role's or database's CONNECTION LIMIT.
    return new LifeboatError(
      'DATABASE_UNREACHABLE',
      `The database server has no free connection${at}: ${message}`,
      {
        cause: error,
        retryable: true,
        hint: 'Close idle connections, lower the parallel workers, or raise max_connections / the CONNECTION LIMIT of the role or database; then run it again.',
      },
    );
  }
  if (code === '57P03') {
    return new LifeboatError(
      'DATABASE_UNREACHABLE',
      `The database is starting up or shutting down${at}: ${message}`,
      {
        cause: error,
        retryable: true,
      },
    );
  }
  if (isConnectionLoss(error)) {
    return new LifeboatError(fallback, `The connection was lost while ${what}${at}: ${message}`, {
      cause: error,
      retryable: true,
    });
  }
  if (code === '3D000') {
    return new LifeboatError('DATABASE_FAILED', `The database does not exist${at}: ${message}`, {
      cause: error,
      hint: 'Check the database name.',
    });
  }
  return new LifeboatError(fallback, `Failed ${what}${at}: ${message}`, { cause: error });
}
