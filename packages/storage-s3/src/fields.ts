import { hostHint } from '@lifeboat/core';
import { z } from 'zod';

/*
 * The options a host checks on its own before it loads the plugin (the environment preset's
 * settings): declared here once, used by the plugin's schema. Messages name the option as the
 * host calls it (hostHint). An entry of its own (`@lifeboat/storage-s3/fields`): no AWS SDK.
 */

const bucket = () => hostHint('s3:bucket', 'bucket');
/** The bucket. It must exist; Lifeboat never creates or deletes buckets. */
export const bucketField = z
  .string()
  .min(1, { error: () => `${bucket()} must name a bucket` })
  .regex(/^[A-Za-z0-9._-]+$/, {
    error: () => `${bucket()} may hold only letters, digits, ".", "_" and "-"`,
  });

/** Keys are stored under this folder of the bucket, `/`-separated. */
export const prefixField = z
  .string()
  .transform((p) => p.replace(/^\/+|\/+$/g, ''))
  .refine((p) => p === '' || p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), {
    error: () =>
      `${hostHint('s3:prefix', 'prefix')} must be a plain folder path (no empty, "." or ".." segments)`,
  });

const endpoint = () => hostHint('s3:endpoint', 'endpoint');
/** Another S3-compatible service: MinIO, Ceph, R2, Backblaze B2, Wasabi… */
export const endpointField = z
  .string()
  .refine((u) => /^https?:\/\/[^\s/]+/i.test(u) && URL.canParse(u), {
    error: () => `${endpoint()} must be a URL such as http://127.0.0.1:9000`,
  })
  .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(u), {
    error: () =>
      `${endpoint()} must not hold credentials; use ${hostHint('s3:accessKeyId', 'accessKeyId')} and ${hostHint('s3:secretAccessKey', 'secretAccessKey')}`,
  });
