import { hostHint } from '@lifeboat/core';
import { z } from 'zod';
import { bucketField, endpointField, prefixField } from './fields.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** The static credentials, as the host names them. */
const keys = () =>
  `${hostHint('s3:accessKeyId', 'accessKeyId')} and ${hostHint('s3:secretAccessKey', 'secretAccessKey')}`;

export const s3StorageOptionsSchema = z
  .object({
    bucket: bucketField,
    prefix: prefixField.default(''),
    region: z.string().min(1).default('us-east-1'),
    endpoint: endpointField.optional(),
    /** Path-style URLs (`endpoint/bucket/key`). Defaults to true when `endpoint` is set. */
    forcePathStyle: z.boolean().optional(),
    /** Static credentials; without them the AWS default chain is used (env, profile, instance role). */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /**
     * Size of the first parts of a multipart upload. Parts double in size every 2,000 parts, so the
     * default (16 MiB) takes an archive of up to ~969 GiB within S3's 10,000 parts; memory in use
     * is about (queueSize + 1) × the current part size.
     */
    partSizeBytes: z
      .number()
      .int()
      .min(5 * MiB, 'partSizeBytes must be at least 5 MiB (the S3 minimum)')
      .max(5 * GiB, 'partSizeBytes must be at most 5 GiB (the S3 maximum)')
      .default(16 * MiB),
    /** Parts uploaded at the same time. */
    queueSize: z.number().int().min(1).max(32).default(4),
    serverSideEncryption: z.enum(['AES256', 'aws:kms', 'aws:kms:dsse']).optional(),
    /** KMS key for `serverSideEncryption: 'aws:kms'`; the default key of the account otherwise. */
    sseKmsKeyId: z.string().min(1).optional(),
    /** STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR… (as the service names them). */
    storageClass: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'storageClass must be an S3 storage class such as STANDARD_IA')
      .optional(),
    /** Attempts of each request (the first one included) on network errors, 5xx and throttling. */
    maxAttempts: z.number().int().min(1).max(20).default(5),
    /**
     * Whether a put that must not overwrite sends `If-None-Match: *`, which makes it race-free.
     * `auto` probes the service on connect (AWS S3 and recent MinIO support it; s3rver does not).
     */
    conditionalWrites: z.enum(['auto', 'always', 'never']).default('auto'),
    /** Multipart uploads of Lifeboat keys older than this are aborted on connect (crashed runs). */
    orphanUploadAgeMs: z
      .number()
      .int()
      .nonnegative()
      .default(24 * 3600 * 1000),
    /** Keys per ListObjectsV2 page (S3 returns at most 1,000). */
    listPageSize: z.number().int().min(1).max(1000).default(1000),
    /** A request whose socket stays idle this long fails (and is retried). */
    requestTimeoutMs: z.number().int().positive().default(120_000),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    /** Called with a warning (orphaned uploads aborted, a feature the service lacks). */
    onWarning: z
      .custom<(code: string, message: string) => void>((v) => typeof v === 'function')
      .optional(),
  })
  .strict()
  .refine((o) => (o.accessKeyId === undefined) === (o.secretAccessKey === undefined), {
    error: () => `give both ${keys()}, or neither`,
  })
  .refine((o) => o.sessionToken === undefined || o.accessKeyId !== undefined, {
    error: () => `a session token needs ${keys()}`,
  });

export type S3StorageOptions = z.input<typeof s3StorageOptionsSchema>;
export type ResolvedS3StorageOptions = z.output<typeof s3StorageOptionsSchema>;
