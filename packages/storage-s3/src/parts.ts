import { GiB } from './options.js';

/** S3's limits on multipart uploads. */
export const MAX_PARTS = 10_000;
export const MAX_PART_BYTES = 5 * GiB;
/** Part sizes double after every this many parts. */
export const PART_GROWTH_INTERVAL = 2_000;

/**
 * The size of part `partNumber` (1-based) when the first parts are `base` bytes. The size of a
 * streamed archive is unknown up front, so parts grow instead: the first 2,000 parts are `base`,
 * the next 2,000 twice that, and so on (capped at 5 GiB). Small archives keep small parts (little
 * memory); a large one still fits in 10,000 parts.
 */
export function partSize(partNumber: number, base: number): number {
  const doublings = Math.floor((partNumber - 1) / PART_GROWTH_INTERVAL);
  return Math.min(MAX_PART_BYTES, base * 2 ** doublings);
}

/** The largest object a multipart upload with this base part size can hold. */
export function maxUploadBytes(base: number): number {
  let total = 0;
  for (let n = 1; n <= MAX_PARTS; n++) total += partSize(n, base);
  return total;
}
