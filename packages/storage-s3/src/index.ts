export { s3Error } from './errors.js';
export { type S3StorageOptions, s3StorageOptionsSchema } from './options.js';
export {
  MAX_PART_BYTES,
  MAX_PARTS,
  maxUploadBytes,
  PART_GROWTH_INTERVAL,
  partSize,
} from './parts.js';
export { s3Storage } from './storage.js';
