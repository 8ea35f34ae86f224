import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface StreamDigest {
  sha256: string;
  bytes: number;
}

/**
 * A pass-through that hashes and counts what flows through it. `digest()` is valid once the
 * stream has ended; `atEnd`, if given, may fail the stream when the digest is not the expected one.
 */
export function digestTap(atEnd?: (digest: StreamDigest) => Error | undefined) {
  const hash = createHash('sha256');
  let bytes = 0;
  let result: StreamDigest | undefined;
  const digest = (): StreamDigest => {
    result ??= { sha256: hash.digest('hex'), bytes };
    return result;
  };
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      callback(atEnd?.(digest()));
    },
  });
  return { stream, digest };
}
