import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rejectionOf } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import { afterAll, describe, expect, it } from 'vitest';

const parent = await fs.mkdtemp(join(tmpdir(), 'lifeboat-bad-path-'));
afterAll(() => fs.rm(parent, { recursive: true, force: true }));

// procfs answers ENOENT for a folder it cannot hold; Node's recursive mkdir loops on that forever.
const PROC = `/proc/lifeboat-${process.pid}/backups`;

describe('a storage folder that cannot exist', () => {
  it('a folder under /proc fails at once with a code naming it, for connect and put', async () => {
    const storage = localStorage({ dir: PROC });
    const error = await rejectionOf(storage.connect());
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.message).toContain(PROC);
    expect(error.message).toContain('does not allow new folders');
    const put = await rejectionOf(storage.put('a/b.txt', Buffer.from('x')));
    expect(put.code).toBe('STORAGE_FAILED');
    expect(put.message).toContain(PROC);
  }, 20_000);

  it('a read-only connect never creates the folder and says it does not exist', async () => {
    const dir = join(parent, 'missing', 'backups');
    const storage = localStorage({ dir });
    const error = await rejectionOf(storage.connect({ create: false }));
    expect(error.code).toBe('STORAGE_NOT_FOUND');
    expect(error.message).toContain(`"${dir}" does not exist`);
    expect(existsSync(join(parent, 'missing'))).toBe(false);
    // A writing connect creates every level, 0700.
    await storage.connect();
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await storage.connect({ create: false });
  });

  it('a read-only connect of a folder under /proc says it does not exist, at once', async () => {
    const error = await rejectionOf(localStorage({ dir: PROC }).connect({ create: false }));
    expect(error.code).toBe('STORAGE_NOT_FOUND');
    expect(error.message).toContain(PROC);
  }, 20_000);
});
