import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  assertSafeEntryPath,
  hostHint,
  isLifeboatKey,
  LifeboatError,
  META_PREFIX,
  parseOptions,
  redact,
  registerSecret,
  type Storage,
  type StorageCapabilities,
  type StoredObject,
  throwIfAborted,
} from '@lifeboat/core';
import { codeOf, isNotFound, isPreconditionFailed, s3Error, statusOf } from './errors.js';
import { type S3StorageOptions, s3StorageOptionsSchema } from './options.js';
import { uploadObject } from './upload.js';

/** The SDK's send options for a call the signal may abort (s3Error makes its abort ABORTED). */
const aborting = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

/** Keys of the conditional-write probe; never listed. */
const PROBE_PREFIX = `${META_PREFIX}.probe-`;

/**
 * Archives in an S3 bucket (AWS S3 or any S3-compatible service), under an optional prefix.
 * Same contract as the local storage: streaming puts that are atomic (multipart uploads are
 * completed only after the whole body was read, and aborted on failure), no overwrite unless
 * asked, NOT_FOUND for a missing key, idempotent deletes.
 */
export function s3Storage(input: S3StorageOptions) {
  const options = parseOptions(s3StorageOptionsSchema, input, 'S3 storage');
  registerSecret(options.secretAccessKey);
  registerSecret(options.sessionToken);
  const secrets = [options.secretAccessKey, options.sessionToken].filter((s): s is string =>
    Boolean(s),
  );
  const warn = options.onWarning ?? (() => {});
  const base = options.prefix ? `${options.prefix}/` : '';
  const endpoint = options.endpoint
    ? redact(options.endpoint.replace(/\/+$/, ''), secrets)
    : undefined;
  const location = `s3://${options.bucket}/${base}`;
  const where = (key = '') => `${location}${key}`;
  const fullKey = (key: string) => `${base}${assertSafeEntryPath(key)}`;

  let client: S3Client | undefined;
  const s3 = (): S3Client => {
    if (!client) {
      const config: S3ClientConfig = {
        region: options.region,
        maxAttempts: options.maxAttempts,
        requestHandler: {
          connectionTimeout: options.connectTimeoutMs,
          requestTimeout: options.requestTimeoutMs,
          httpAgent: { keepAlive: true, maxSockets: options.queueSize + 8 },
          httpsAgent: { keepAlive: true, maxSockets: options.queueSize + 8 },
        },
      };
      if (options.endpoint) {
        config.endpoint = options.endpoint;
        config.forcePathStyle = options.forcePathStyle ?? true;
        // Many S3-compatible services reject the SDK's default CRC32 checksum headers.
        config.requestChecksumCalculation = 'WHEN_REQUIRED';
        config.responseChecksumValidation = 'WHEN_REQUIRED';
      } else if (options.forcePathStyle !== undefined) {
        config.forcePathStyle = options.forcePathStyle;
      }
      if (options.accessKeyId && options.secretAccessKey) {
        config.credentials = {
          accessKeyId: options.accessKeyId,
          secretAccessKey: options.secretAccessKey,
          ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
        };
      }
      client = new S3Client(config);
    }
    return client;
  };

  let conditional = options.conditionalWrites === 'always';
  const capabilities: StorageCapabilities = { freeSpace: false, exclusiveCreate: conditional };

  const objectParams = (metadata?: Record<string, string>) => ({
    ...(metadata && Object.keys(metadata).length > 0 ? { Metadata: metadata } : {}),
    ...(options.serverSideEncryption ? { ServerSideEncryption: options.serverSideEncryption } : {}),
    ...(options.sseKmsKeyId ? { SSEKMSKeyId: options.sseKmsKeyId } : {}),
    ...(options.storageClass ? { StorageClass: options.storageClass as never } : {}),
  });

  const exists = async (full: string, relative: string): Promise<boolean> => {
    try {
      await s3().send(new HeadObjectCommand({ Bucket: options.bucket, Key: full }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw s3Error(error, 'check', where(relative), secrets);
    }
  };

  /** Does the service refuse a second `If-None-Match: *` put of the same key? */
  const probeConditionalWrites = async (): Promise<boolean> => {
    const key = `${base}${PROBE_PREFIX}${randomUUID()}`;
    const put = () =>
      s3().send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: key,
          Body: Buffer.from('probe'),
          IfNoneMatch: '*',
          ...objectParams(),
        }),
      );
    try {
      await put();
      try {
        await put();
        return false;
      } catch (error) {
        if (isPreconditionFailed(error) || statusOf(error) === 409) return true;
        return false;
      }
    } catch (error) {
      // A service that rejects the header outright (400, 501) has no conditional writes.
      const status = statusOf(error);
      if (status === 400 || status === 501 || codeOf(error) === 'NotImplemented') return false;
      throw s3Error(error, 'write to', location, secrets);
    } finally {
      await s3()
        .send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key }))
        .catch(() => {});
    }
  };

  /** Aborts multipart uploads of Lifeboat keys started before `orphanUploadAgeMs` (crashed runs). */
  const cleanOrphanedUploads = async (signal?: AbortSignal) => {
    const cutoff = Date.now() - options.orphanUploadAgeMs;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 1000; page++) {
      let result: ListMultipartUploadsCommandOutput;
      try {
        result = await s3().send(
          new ListMultipartUploadsCommand({
            Bucket: options.bucket,
            ...(base ? { Prefix: base } : {}),
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
          aborting(signal),
        );
      } catch (error) {
        const status = statusOf(error);
        if (
          status === 501 ||
          status === 405 ||
          status === 403 ||
          codeOf(error) === 'NotImplemented'
        ) {
          warn(
            'S3_UPLOADS_NOT_LISTED',
            `Cannot list unfinished multipart uploads in ${location} (${codeOf(error)}): parts of crashed runs are not cleaned; add a bucket lifecycle rule that aborts incomplete multipart uploads`,
          );
          return;
        }
        throw s3Error(error, 'list the unfinished uploads of', location, secrets);
      }
      for (const upload of result.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Key.startsWith(base)) continue;
        const relative = upload.Key.slice(base.length);
        if (!isLifeboatKey(relative)) continue;
        if (upload.Initiated && upload.Initiated.getTime() > cutoff) continue;
        try {
          await s3().send(
            new AbortMultipartUploadCommand({
              Bucket: options.bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          );
          warn(
            'S3_UPLOAD_CLEANED',
            `Aborted the unfinished multipart upload of ${where(relative)}, left by an interrupted run`,
          );
        } catch (error) {
          if (!isNotFound(error)) {
            warn(
              'S3_UPLOAD_NOT_ABORTED',
              `Could not abort the unfinished upload of ${where(relative)} (${codeOf(error)})`,
            );
          }
        }
      }
      if (!result.IsTruncated || (!result.NextKeyMarker && !result.NextUploadIdMarker)) return;
      keyMarker = result.NextKeyMarker;
      uploadIdMarker = result.NextUploadIdMarker;
    }
  };

  return {
    id: 's3',
    capabilities,
    describe: () => `${location.replace(/\/$/, '')} (${endpoint ?? `AWS ${options.region}`})`,

    async connect(connectOptions: { signal?: AbortSignal } = {}) {
      try {
        await s3().send(
          new HeadBucketCommand({ Bucket: options.bucket }),
          aborting(connectOptions.signal),
        );
      } catch (error) {
        if (isNotFound(error) || codeOf(error) === 'NoSuchBucket') {
          throw new LifeboatError(
            'STORAGE_FAILED',
            `The bucket "${options.bucket}" does not exist at ${endpoint ?? `AWS ${options.region}`}`,
            {
              cause: error,
              hint: hostHint(
                's3:no-bucket',
                'Create the bucket, or fix the bucket / endpoint options.',
              ),
            },
          );
        }
        throw s3Error(error, 'reach', location, secrets);
      }
      if (options.conditionalWrites === 'auto') {
        conditional = await probeConditionalWrites();
        capabilities.exclusiveCreate = conditional;
      }
      await cleanOrphanedUploads(connectOptions.signal);
    },

    async close() {
      client?.destroy();
      client = undefined;
    },

    async put(key, body, putOptions = {}) {
      // The body is ours from now on: a failure of its producer while we check the key must not
      // go unheard (an 'error' without a listener crashes the process); the upload rejects with it.
      if (!(body instanceof Uint8Array)) (body as Readable).on('error', () => {});
      const full = fullKey(key);
      const exclusive = !putOptions.overwrite;
      try {
        if (putOptions.signal?.aborted) throw putOptions.signal.reason ?? new Error('aborted');
        if (exclusive && (await exists(full, key))) {
          throw new LifeboatError(
            'ALREADY_EXISTS',
            `${where(key)} exists; archives are never overwritten`,
          );
        }
        const bytes = await uploadObject(
          {
            client: s3(),
            bucket: options.bucket,
            key: full,
            where: where(key),
            params: objectParams(putOptions.metadata),
            partSizeBytes: options.partSizeBytes,
            queueSize: options.queueSize,
            exclusive,
            conditional,
            exists: () => exists(full, key),
            signal: putOptions.signal,
            onWarning: warn,
          },
          body,
        );
        return { key, bytes, modifiedAt: new Date() };
      } catch (error) {
        if (!(body instanceof Uint8Array)) (body as Readable).destroy();
        if (
          putOptions.signal?.aborted &&
          !(error instanceof LifeboatError && error.code === 'ALREADY_EXISTS')
        ) {
          throw new LifeboatError('ABORTED', `Writing ${where(key)} was aborted`, {
            cause: putOptions.signal.reason,
          });
        }
        throw s3Error(error, 'write', where(key), secrets);
      }
    },

    async get(key, getOptions = {}) {
      let response: GetObjectCommandOutput;
      const range = getOptions.range;
      try {
        if (range && range.end <= range.start) {
          // HTTP cannot ask for no bytes: say NOT_FOUND as any get would, else yield nothing.
          await s3().send(new HeadObjectCommand({ Bucket: options.bucket, Key: fullKey(key) }));
          return Readable.from([]);
        }
        response = await s3().send(
          new GetObjectCommand({
            Bucket: options.bucket,
            Key: fullKey(key),
            // A ranged GET: only these bytes cross the network (end inclusive in HTTP).
            ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
          }),
          aborting(getOptions.signal),
        );
      } catch (error) {
        // A range starting past the end (416): no bytes, as the contract says.
        if (range && statusOf(error) === 416) return Readable.from([]);
        if (isNotFound(error))
          throw new LifeboatError('NOT_FOUND', `${where(key)} does not exist`, { cause: error });
        throw s3Error(error, 'read', where(key), secrets);
      }
      const source = response.Body as Readable | undefined;
      const out = new PassThrough({ highWaterMark: 1024 * 1024 });
      if (!source) {
        out.end();
        return out;
      }
      // Errors of the body (a connection reset mid-download) come out as LifeboatErrors.
      source.on('error', (error) => out.destroy(s3Error(error, 'read', where(key), secrets)));
      out.on('close', () => {
        if (!source.destroyed) source.destroy();
      });
      source.pipe(out);
      return out;
    },

    async stat(key, callOptions = {}) {
      throwIfAborted(callOptions.signal);
      try {
        const head = await s3().send(
          new HeadObjectCommand({ Bucket: options.bucket, Key: fullKey(key) }),
          aborting(callOptions.signal),
        );
        return {
          key,
          bytes: head.ContentLength ?? 0,
          modifiedAt: head.LastModified ?? new Date(0),
        };
      } catch (error) {
        if (isNotFound(error))
          throw new LifeboatError('NOT_FOUND', `${where(key)} does not exist`, { cause: error });
        throw s3Error(error, 'read', where(key), secrets);
      }
    },

    async list(prefix = '', callOptions = {}) {
      throwIfAborted(callOptions.signal);
      const out: StoredObject[] = [];
      let token: string | undefined;
      for (;;) {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await s3().send(
            new ListObjectsV2Command({
              Bucket: options.bucket,
              Prefix: `${base}${prefix}`,
              MaxKeys: options.listPageSize,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            aborting(callOptions.signal),
          );
        } catch (error) {
          throw s3Error(error, 'list', where(prefix), secrets);
        }
        for (const object of page.Contents ?? []) {
          if (!object.Key?.startsWith(base)) continue;
          const relative = object.Key.slice(base.length);
          if (relative === '' || relative.endsWith('/') || relative.startsWith(PROBE_PREFIX))
            continue;
          out.push({
            key: relative,
            bytes: object.Size ?? 0,
            modifiedAt: object.LastModified ?? new Date(0),
          });
        }
        if (!page.IsTruncated || !page.NextContinuationToken) return out;
        token = page.NextContinuationToken;
      }
    },

    async delete(key, callOptions = {}) {
      throwIfAborted(callOptions.signal);
      try {
        await s3().send(
          new DeleteObjectCommand({ Bucket: options.bucket, Key: fullKey(key) }),
          aborting(callOptions.signal),
        );
      } catch (error) {
        if (isNotFound(error)) return;
        throw s3Error(error, 'delete', where(key), secrets);
      }
    },
  } satisfies Storage;
}
