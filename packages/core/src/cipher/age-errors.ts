import { hostHint, LifeboatError } from '../errors.js';
import { redact } from '../redact.js';

/** Why a decryption failed, in words, without quoting the input (it may be a plaintext file). */
export function decryptionError(
  error: unknown,
  identityCount: number,
  plainBytes: number,
): LifeboatError {
  const text = error instanceof Error ? error.message : String(error);
  const keep = { cause: error };
  if (/no identity matched/i.test(text)) {
    return new LifeboatError(
      'DECRYPTION_FAILED',
      `None of the ${identityCount} configured age ${identityCount === 1 ? 'identity' : 'identities'} can decrypt this archive: it was encrypted to other recipients`,
      {
        ...keep,
        hint: hostHint(
          'identity:wrong',
          'Give the secret key of one of the recipients the archive was encrypted to.',
        ),
      },
    );
  }
  if (
    /invalid version|invalid header|non-ASCII|stanza|stream ended before/i.test(text) &&
    plainBytes === 0
  ) {
    // The message may quote the first line of the file: keep it out, even as the cause.
    return new LifeboatError(
      'DECRYPTION_FAILED',
      'The archive is not a binary age file, or its age header is damaged',
      {
        hint: 'Check that this archive was written by Lifeboat with encryption (or by `age` without --armor).',
      },
    );
  }
  if (/HMAC/i.test(text)) {
    return new LifeboatError(
      'DECRYPTION_FAILED',
      'The age header of the archive was altered or damaged (its MAC does not match)',
      keep,
    );
  }
  return new LifeboatError(
    'DECRYPTION_FAILED',
    `The encrypted archive was altered, damaged or truncated: authentication failed after ${plainBytes} decrypted bytes (${redact(text)})`,
    { ...keep, hint: 'Use another archive; this one cannot be trusted.' },
  );
}
