import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testStorage } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';

testStorage('local', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'lifeboat-local-'));
  return {
    storage: localStorage({ dir: join(parent, 'backups') }),
    cleanup: () => rm(parent, { recursive: true, force: true }),
  };
});
