import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_KEY, SECRET_KEY, startS3, type TestS3 } from '@lifeboat/test-support/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// `--quiet` is for cron: nothing on success. With S3 the AWS SDK warned on standard error, on
// Node < 22, that its future versions need Node 22 (the CLI bundles its SDK: nothing the user
// can act on), so cron mailed every night's backup.

let s3: TestS3;
let work: string;
let env: Record<string, string>;
beforeAll(async () => {
  s3 = await startS3();
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cli-s3-'));
  await fs.writeFile(join(work, 'nginx.prod.conf'), 'server {}\n');
  env = {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    CONFIG_FILES: join(work, 'nginx.prod.conf'),
  };
});
afterAll(async () => {
  await s3?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('lifeboat --quiet with S3 storage', () => {
  it('backup and verify print nothing on success, with and without a memory limit', async () => {
    const runs: Record<string, string>[] = [{}, { BACKUP_MEMORY_LIMIT: '64MiB' }];
    for (const extra of runs) {
      const backup = await runCli(['backup', '--quiet'], { ...env, ...extra });
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toBe('');
      expect(backup.stderr).toBe('');
      const verify = await runCli(['verify', '--quiet'], { ...env, ...extra });
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toBe('');
      expect(verify.stderr).toBe('');
    }
    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toHaveLength(2);
  });

  it("a user's own AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false is kept", async () => {
    const backup = await runCli(['backup', '--quiet'], {
      ...env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false',
    });
    expect(backup.code, backup.stderr).toBe(0);
    // The SDK warns only below Node 22.
    if (Number(process.versions.node.split('.')[0]) < 22)
      expect(backup.stderr).toContain('NodeVersionSupportWarning');
  });
});
