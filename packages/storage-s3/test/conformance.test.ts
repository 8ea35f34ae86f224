import { randomUUID } from 'node:crypto';
import { testStorage } from '@lifeboat/core/testing';
import { s3Storage } from '@lifeboat/storage-s3';
import { ACCESS_KEY, SECRET_KEY, startS3, type TestS3 } from '@lifeboat/test-support/s3';
import { afterAll, describe, expect, it } from 'vitest';

// One server per variant for the whole file; every test gets its own prefix in the bucket.
const servers: Promise<TestS3>[] = [];
const server = (conditionalWrites: boolean) => {
  const index = conditionalWrites ? 1 : 0;
  servers[index] ??= startS3({ conditionalWrites });
  return servers[index]!;
};
afterAll(async () => {
  await Promise.all(servers.map(async (s) => (await s)?.close()));
});

const storageFor = (s3: TestS3, endpoint: string) =>
  s3Storage({
    bucket: s3.bucket,
    prefix: `suite/${randomUUID()}`,
    endpoint,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    partSizeBytes: 5 * 1024 * 1024,
    maxAttempts: 2,
  });

// s3rver as it is: no conditional writes, so exclusive puts check with HeadObject (not race-free).
testStorage(
  's3 (s3rver)',
  async () => {
    const s3 = await server(false);
    return { storage: storageFor(s3, s3.directEndpoint) };
  },
  { secrets: [SECRET_KEY] },
);

// The same, through a proxy that adds If-None-Match, ListMultipartUploads and AbortMultipartUpload.
testStorage(
  's3 (s3rver + conditional writes)',
  async () => {
    const s3 = await server(true);
    return { storage: storageFor(s3, s3.endpoint) };
  },
  { secrets: [SECRET_KEY] },
);

describe('s3 capabilities', () => {
  it('detects conditional writes on connect: exclusiveCreate only when race-free', async () => {
    const plain = storageFor(await server(false), (await server(false)).directEndpoint);
    const withConditional = storageFor(await server(true), (await server(true)).endpoint);
    expect(plain.capabilities.exclusiveCreate).toBe(false);
    await plain.connect();
    await withConditional.connect();
    expect(plain.capabilities).toEqual({ freeSpace: false, exclusiveCreate: false });
    expect(withConditional.capabilities).toEqual({ freeSpace: false, exclusiveCreate: true });
    // The probe leaves nothing behind.
    expect(await plain.list('')).toEqual([]);
    expect(await withConditional.list('')).toEqual([]);
    await plain.close();
    await withConditional.close();
  });
});
