import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ByteQueue, LifeboatError, withDeadline } from '@lifeboat/core';
import { isConditionalConflict, isPreconditionFailed } from './errors.js';
import { MAX_PARTS, maxUploadBytes, partSize } from './parts.js';

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  /** The full object key (prefix included). */
  key: string;
  /** Shown in messages: `s3://bucket/prefix/key`. */
  where: string;
  /** Object settings: metadata, server-side encryption, storage class. */
  params: Pick<
    PutObjectCommandInput,
    'Metadata' | 'ServerSideEncryption' | 'SSEKMSKeyId' | 'StorageClass'
  >;
  partSizeBytes: number;
  queueSize: number;
  /** The put must not replace an existing object. */
  exclusive: boolean;
  /** The service honours `If-None-Match: *` (then `exclusive` is race-free). */
  conditional: boolean;
  /** Whether the object exists now (HeadObject), for services without conditional writes. */
  exists(): Promise<boolean>;
  signal?: AbortSignal | undefined;
  onWarning(code: string, message: string): void;
}

const alreadyExists = (where: string) =>
  new LifeboatError('ALREADY_EXISTS', `${where} exists; archives are never overwritten`);

/**
 * Uploads a stream as one object without a temporary copy: bodies smaller than one part go in a
 * single PutObject, larger ones in a multipart upload whose parts grow (see `partSize`), with
 * `queueSize` parts in flight. Nothing appears under the key until the last request (PutObject or
 * CompleteMultipartUpload) succeeds; on any failure or abort the multipart upload is aborted
 * before this rejects, so no part is left behind (where the service implements the abort). When
 * a part fails, the parts in flight finish first; the caller's abort cancels them at once.
 *
 * The final request is sent only once the whole body was read, and is not cancelled by the
 * signal: an abort that arrives during it loses the race and the put succeeds.
 *
 * Resolves to the number of bytes stored.
 */
export async function uploadObject(
  target: UploadTarget,
  body: Readable | Uint8Array,
): Promise<number> {
  const { client, bucket, key, where } = target;
  const stop = new AbortController();
  const signal = target.signal ? AbortSignal.any([target.signal, stop.signal]) : stop.signal;
  const source =
    body instanceof Uint8Array
      ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)])
      : body;
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | Uint8Array | string>;
  // On abort: stop the body (a pending read then fails).
  const onAbort = () => source.destroy();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  /**
   * The next chunk of the body, or the abort reason. (A fresh listener per read: racing every
   * read against one long-lived promise would keep every chunk alive until the upload ends.)
   */
  const nextChunk = () =>
    signal.aborted
      ? Promise.reject(signal.reason ?? new Error('aborted'))
      : untilAborted(iterator.next(), signal);

  const checksums = (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  const pending = new ByteQueue();
  let total = 0;
  let ended = false;

  /** Reads the body until `want` bytes are buffered or it ends. */
  const fill = async (want: number) => {
    while (pending.length < want && !ended) {
      const next = await nextChunk();
      if (next.done) {
        ended = true;
        break;
      }
      const value = next.value;
      const chunk =
        typeof value === 'string'
          ? Buffer.from(value)
          : Buffer.isBuffer(value)
            ? value
            : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      pending.push(chunk);
      total += chunk.length;
    }
  };

  let uploadId: string | undefined;
  let creating: Promise<{ UploadId?: string | undefined }> | undefined;
  const inflight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: unknown;
  let stopping = false;

  try {
    const firstSize = partSize(1, target.partSizeBytes);
    await fill(firstSize + 1);
    if (ended && pending.length <= firstSize) {
      // Small body: one request.
      const data = pending.take(pending.length);
      if (signal.aborted) throw signal.reason;
      await putSingle(target, data);
      return total;
    }

    // Not cancelled by the abort signal: an abort that cut this request short after the service
    // had made the upload would leave it unknown here, never aborted (its parts billed). The
    // abort is waited for instead, and the catch below aborts the upload once it is known.
    creating = client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...target.params,
        ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
    );
    const created = await untilAborted(creating, signal);
    uploadId = created.UploadId;
    if (!uploadId)
      throw new LifeboatError(
        'STORAGE_FAILED',
        `The S3 service started no multipart upload for ${where}`,
      );

    for (let partNumber = 1; ; partNumber++) {
      while (inflight.size >= target.queueSize) await Promise.race(inflight);
      if (failure !== undefined) throw failure;
      const size = partSize(partNumber, target.partSizeBytes);
      await fill(size);
      if (pending.length === 0) break;
      if (partNumber > MAX_PARTS) {
        throw new LifeboatError(
          'STORAGE_FAILED',
          `${where} is larger than the ${(maxUploadBytes(target.partSizeBytes) / 2 ** 30).toFixed(0)} GiB a multipart upload with partSizeBytes=${target.partSizeBytes} can hold`,
          { hint: 'Raise partSizeBytes (the part size doubles every 2,000 parts from it).' },
        );
      }
      const data = pending.take(size);
      const upload: Promise<void> = client
        .send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: data,
            ContentLength: data.length,
            ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
          }),
          // Only the caller's abort cancels a part in flight. After another part failed, the
          // parts in flight finish before the upload is aborted: a part still arriving while the
          // upload is aborted may survive it (S3 says to abort again), and some servers fail.
          target.signal ? { abortSignal: target.signal } : {},
        )
        .then((result) => {
          if (!result.ETag)
            throw new LifeboatError(
              'STORAGE_FAILED',
              `The S3 service returned no ETag for part ${partNumber} of ${where}`,
            );
          parts.push({
            PartNumber: partNumber,
            ETag: result.ETag,
            ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
          });
        })
        .catch((error: unknown) => {
          if (!stopping && failure === undefined) {
            failure = error;
            stop.abort(error);
          }
        })
        .finally(() => inflight.delete(upload));
      inflight.add(upload);
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure;
    if (signal.aborted) throw signal.reason;
    // Without conditional writes, look once more just before the object appears (a narrow race).
    if (target.exclusive && !target.conditional && (await target.exists()))
      throw alreadyExists(where);
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    try {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(target.exclusive && target.conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    } catch (error) {
      if (isPreconditionFailed(error)) throw alreadyExists(where);
      if (isConditionalConflict(error)) {
        throw (await target.exists().catch(() => false))
          ? alreadyExists(where)
          : new LifeboatError(
              'STORAGE_FAILED',
              `Another writer was completing ${where} at the same time`,
              { cause: error, retryable: true },
            );
      }
      throw error;
    }
    uploadId = undefined;
    return total;
  } catch (error) {
    stopping = true;
    const first = failure ?? error;
    if (!stop.signal.aborted) stop.abort(first);
    await Promise.allSettled(inflight);
    pending.drain();
    source.destroy();
    // An upload whose creation the abort overtook: wait (bounded) to learn its id, then abort it.
    if (!uploadId && creating) {
      const late = () => new Error('CreateMultipartUpload did not answer');
      const created = await withDeadline(creating, CREATE_WAIT_MS, late).catch(() => undefined);
      uploadId = created?.UploadId;
    }
    if (uploadId) await abortUpload(target, uploadId);
    throw first;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function putSingle(target: UploadTarget, data: Buffer): Promise<void> {
  const request = () =>
    target.client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: data,
        ContentLength: data.length,
        ...target.params,
        ...(target.exclusive && target.conditional ? { IfNoneMatch: '*' } : {}),
      }),
    );
  for (let attempt = 1; ; attempt++) {
    try {
      await request();
      return;
    } catch (error) {
      if (isPreconditionFailed(error)) throw alreadyExists(target.where);
      // 409: another conditional write of the same key is in flight; one of them wins.
      if (isConditionalConflict(error)) {
        if (await target.exists().catch(() => false)) throw alreadyExists(target.where);
        if (attempt < 3) continue;
      }
      throw error;
    }
  }
}

/** How long a failed put waits for a CreateMultipartUpload still in flight, to abort what it made. */
const CREATE_WAIT_MS = 15_000;

/**
 * The promise's value, or the signal's own reason once it aborts (the promise goes on). Not core's
 * withSignal: that rejects with ABORTED, and here the reason is the failure that stopped the put
 * (a part that failed, the caller's error), which the put rethrows.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}); // its failure comes after the abort's: not unhandled
    return Promise.reject(signal.reason ?? new Error('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', aborted, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
  });
}

/** Aborts a multipart upload so its parts are freed. Never throws: the put's own error matters more. */
async function abortUpload(target: UploadTarget, uploadId: string): Promise<void> {
  try {
    await target.client.send(
      new AbortMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: uploadId,
      }),
    );
  } catch (error) {
    const code = (error as { name?: string })?.name ?? 'error';
    if (code === 'NoSuchUpload') return;
    target.onWarning(
      'S3_UPLOAD_NOT_ABORTED',
      `Could not abort the failed multipart upload of ${target.where} (${code}); its parts stay until the next connect or a bucket lifecycle rule removes them`,
    );
  }
}
