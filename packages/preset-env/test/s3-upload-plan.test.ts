import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buildStorage, fromEnv, resolveSettings } from '@lifeboat/preset-env';
import { ACCESS_KEY, SECRET_KEY, startS3, type TestS3 } from '@lifeboat/test-support/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The S3 upload holds its parts in flight whole: the memory plan (BACKUP_MEMORY_LIMIT) sizes
// them. The plugin's own default (16 MiB parts, 4 in flight) alone held up to 80 MiB, and a
// capped run took it into a 64 MiB container.

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

const MiB = 1024 * 1024;

const settings = (extra: Record<string, string>) =>
  resolveSettings({
    env: fromEnv({
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      ...extra,
    }),
  });

/** Streams 12 MiB (a streamed body: its size is unknown, as an archive's) and counts the parts. */
async function uploadParts(extra: Record<string, string>, key: string) {
  const storage = await buildStorage(settings(extra));
  await storage.connect();
  const body = randomBytes(12 * MiB);
  const from = s3.requests.length;
  const chunks = Array.from({ length: 48 }, (_, i) =>
    body.subarray(i * 256 * 1024, (i + 1) * 256 * 1024),
  );
  const stored = await storage.put(key, Readable.from(chunks));
  const requests = s3.requests.slice(from).filter((r) => r.includes(encodeURI(key)));
  await storage.close();
  expect(stored.bytes).toBe(body.length);
  return {
    parts: requests.filter((r) => /^PUT .*[?&]partNumber=/.test(r)).length,
    singlePut: requests.filter((r) => /^PUT /.test(r) && !r.includes('partNumber=')).length,
  };
}

describe('S3 upload parts follow the memory plan', () => {
  it('with BACKUP_MEMORY_LIMIT under 128 MiB: S3 minimum parts of 5 MiB', async () => {
    const { parts, singlePut } = await uploadParts(
      { BACKUP_MEMORY_LIMIT: '64MiB' },
      'plan/capped.bin',
    );
    expect(parts).toBe(3); // 5 + 5 + 2 MiB
    expect(singlePut).toBe(0);
  });

  it('by default: 8 MiB parts, not the plugin default of 16 MiB (a single PutObject here)', async () => {
    const { parts, singlePut } = await uploadParts({}, 'plan/default.bin');
    expect(parts).toBe(2); // 8 + 4 MiB
    expect(singlePut).toBe(0);
  });
});
