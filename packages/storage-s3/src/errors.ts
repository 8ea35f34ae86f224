import { type ErrorCode, hostHint, isAbortError, LifeboatError, redact } from '@lifeboat/core';

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
]);
const FULL_CODES = new Set([
  'QuotaExceeded',
  'XMinioStorageFull',
  'InsufficientStorage',
  'StorageFull',
]);

export const statusOf = (error: unknown): number | undefined =>
  (error as AwsLikeError)?.$metadata?.httpStatusCode;
export const codeOf = (error: unknown): string =>
  (error as AwsLikeError)?.Code ??
  (error as AwsLikeError)?.code ??
  (error as AwsLikeError)?.name ??
  'Error';

/** True for 404 answers: the key (or the upload) does not exist. */
export function isNotFound(error: unknown): boolean {
  const code = codeOf(error);
  return (
    statusOf(error) === 404 ||
    code === 'NoSuchKey' ||
    code === 'NotFound' ||
    code === 'NoSuchUpload'
  );
}

/** True when the service refused a conditional write because the key exists (412) or is being written (409). */
export function isPreconditionFailed(error: unknown): boolean {
  const code = codeOf(error);
  return statusOf(error) === 412 || code === 'PreconditionFailed';
}
export function isConditionalConflict(error: unknown): boolean {
  return statusOf(error) === 409 && codeOf(error) === 'ConditionalRequestConflict';
}

export function isNetworkError(error: unknown): boolean {
  const e = error as AwsLikeError & { cause?: unknown };
  if (NETWORK_CODES.has(e?.code ?? '') || NETWORK_CODES.has((e?.cause as AwsLikeError)?.code ?? ''))
    return true;
  return e?.name === 'TimeoutError' || e?.name === 'RequestTimeout' || e?.code === 'TimeoutError';
}

/**
 * Maps an AWS SDK error to a LifeboatError that says what failed and what to do. No secret goes
 * into the message: the SDK never puts credentials in its errors, and `redact` runs anyway.
 */
export function s3Error(
  error: unknown,
  action: string,
  where: string,
  secrets: string[] = [],
): LifeboatError {
  if (error instanceof LifeboatError) return error;
  if (isAbortError(error))
    return new LifeboatError('ABORTED', `${action} ${where} was aborted`, { cause: error });
  const status = statusOf(error);
  const code = codeOf(error);
  const raw = (error as AwsLikeError)?.message;
  const detail =
    raw && raw !== code && raw !== 'UnknownError'
      ? `${code}: ${raw}`
      : status
        ? `${code} (HTTP ${status})`
        : code;
  const say = (what: ErrorCode, text: string, more: { hint?: string; retryable?: boolean } = {}) =>
    new LifeboatError(what, redact(text, secrets), { cause: error, ...more });

  if (isNetworkError(error)) {
    return say(
      'STORAGE_FAILED',
      `Cannot ${action} ${where}: the S3 endpoint cannot be reached (${detail})`,
      {
        retryable: true,
        hint: hostHint(
          's3:unreachable',
          'Check the endpoint / region options and the network; the run can be retried.',
        ),
      },
    );
  }
  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(raw ?? '')) {
    return say('PERMISSION_DENIED', `Cannot ${action} ${where}: no AWS credentials were found`, {
      hint: hostHint(
        's3:no-credentials',
        'Give accessKeyId and secretAccessKey (or a profile / instance role).',
      ),
    });
  }
  if (CREDENTIAL_CODES.has(code)) {
    return say(
      'PERMISSION_DENIED',
      `Cannot ${action} ${where}: S3 refused the credentials (${code})`,
      {
        hint: hostHint(
          's3:credentials-refused',
          'Check accessKeyId and secretAccessKey (and the session token, if any) for this endpoint.',
        ),
      },
    );
  }
  if (
    status === 403 ||
    code === 'AccessDenied' ||
    code === 'Forbidden' ||
    code === 'AllAccessDisabled'
  ) {
    return say('PERMISSION_DENIED', `Cannot ${action} ${where}: access denied (${detail})`, {
      hint: hostHint(
        's3:access-denied',
        'Check accessKeyId / secretAccessKey, and that their policy allows s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on this bucket and prefix.',
      ),
    });
  }
  if (code === 'NoSuchBucket') {
    return say('STORAGE_FAILED', `Cannot ${action} ${where}: the bucket does not exist`, {
      hint: hostHint('s3:no-bucket', 'Create the bucket, or fix the bucket / endpoint options.'),
    });
  }
  if (status === 301 || code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed') {
    return say(
      'CONFIG_INVALID',
      `Cannot ${action} ${where}: the bucket is in another region (${detail})`,
      {
        hint: hostHint('s3:wrong-region', 'Set the region option to the region of the bucket.'),
      },
    );
  }
  if (status === 507 || FULL_CODES.has(code)) {
    return say('STORAGE_FULL', `Cannot ${action} ${where}: the storage is full (${detail})`);
  }
  if (isPreconditionFailed(error)) {
    return say(
      'ALREADY_EXISTS',
      `Cannot ${action} ${where}: it exists; archives are never overwritten`,
    );
  }
  const throttled = Boolean((error as AwsLikeError)?.$retryable?.throttling) || code === 'SlowDown';
  const serverSide =
    (status !== undefined && status >= 500) || (error as AwsLikeError)?.$fault === 'server';
  return say('STORAGE_FAILED', `Cannot ${action} ${where}: ${detail}`, {
    retryable: throttled || serverSide,
    ...(throttled || serverSide
      ? { hint: 'The S3 service failed or throttled the request; the run can be retried.' }
      : {}),
  });
}
