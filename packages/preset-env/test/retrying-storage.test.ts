import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLifeboatError, type LifeboatError } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { buildStorage, fromEnv, resolveSettings } from '@lifeboat/preset-env';
import { ACCESS_KEY, SECRET_KEY, startS3, type TestS3 } from '@lifeboat/test-support/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let s3: TestS3;
let work: string;
beforeAll(async () => {
  s3 = await startS3();
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-preset-'));
});
afterAll(async () => {
  await s3?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** The settings a user would give, read as the CLI reads them. */
const s3Settings = () =>
  resolveSettings({
    env: fromEnv({
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    }),
  });

type Retry = { op: string; attempt: number; error: unknown };

describe('the storage the preset builds tries again after a retryable failure', () => {
  it('an S3 server that stops and starts again: the listing fails, is tried again, succeeds', async () => {
    const retries: Retry[] = [];
    let restarted: Promise<void> | undefined;
    const storage = await buildStorage(s3Settings(), {
      retry: {
        attempts: 5,
        baseDelayMs: 200,
        onRetry: (r) => {
          retries.push(r);
          // The server comes back once the storage has failed against it for real.
          restarted ??= s3.restart();
        },
      },
    });
    await storage.connect();
    await storage.put('outage/a.txt', Buffer.from('kept'));
    await s3.kill();
    const listed = await storage.list('outage/');
    expect(listed.map((o) => o.key)).toEqual(['outage/a.txt']);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatchObject({ op: 'list', attempt: 1 });
    const first = retries[0]!.error as LifeboatError;
    expect(isLifeboatError(first) && first.code).toBe('STORAGE_FAILED');
    expect(first.retryable).toBe(true);
    await restarted;
    await storage.close();
  });

  it('a refusal (403) is a decision: thrown at once, one request, no retry', async () => {
    const retries: Retry[] = [];
    const storage = await buildStorage(s3Settings(), {
      retry: { attempts: 5, baseDelayMs: 1, onRetry: (r) => retries.push(r) },
    });
    await storage.connect();
    const before = s3.requests.length;
    s3.fault = () => ({ status: 403, code: 'AccessDenied' });
    try {
      const error = await rejectionOf(storage.stat('outage/a.txt'));
      expect(error.code).toBe('PERMISSION_DENIED');
    } finally {
      s3.fault = undefined;
    }
    expect(retries).toEqual([]);
    expect(s3.requests.length - before).toBe(1);
    await storage.close();
  });

  it('an abort ends the tries against a stopped server at once', async () => {
    const retries: Retry[] = [];
    const storage = await buildStorage(s3Settings(), {
      retry: { attempts: 10, baseDelayMs: 5_000, onRetry: (r) => retries.push(r) },
    });
    await storage.connect();
    await s3.kill();
    try {
      const controller = new AbortController();
      const began = performance.now();
      setTimeout(() => controller.abort(), 300);
      const error = await rejectionOf(storage.list('', { signal: controller.signal }));
      expect(error.code).toBe('ABORTED');
      // Ten tries 5 s apart would take minutes.
      expect(performance.now() - began).toBeLessThan(5_000);
    } finally {
      await s3.restart();
    }
    await storage.close();
  });

  it('a local folder that cannot be one (a file in its path) fails once, no retry', async () => {
    const file = join(work, 'a-file');
    await fs.writeFile(file, 'x');
    const retries: Retry[] = [];
    const storage = await buildStorage(
      resolveSettings({ env: fromEnv({ BACKUP_DIR: join(file, 'backups') }) }),
      { retry: { attempts: 5, baseDelayMs: 1, onRetry: (r) => retries.push(r) } },
    );
    const error = await rejectionOf(storage.connect());
    expect(error.retryable).toBe(false);
    expect(retries).toEqual([]);
  });
});
