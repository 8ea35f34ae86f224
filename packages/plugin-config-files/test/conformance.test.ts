import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testSource } from '@lifeboat/core/testing';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import { expect } from 'vitest';

testSource('config-files', async () => {
  const work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cfg-suite-'));
  const app = join(work, 'app');
  await fs.mkdir(join(app, 'ssl'), { recursive: true });
  await fs.writeFile(join(app, '.env.production'), 'APP_KEY=conformance\n', { mode: 0o600 });
  await fs.writeFile(join(app, 'ssl', 'cert.pem'), 'CERT\n');
  const target = join(work, 'restored');
  return {
    source: configFilesSource({
      files: [join(app, '.env.production')],
      directories: [{ path: join(app, 'ssl'), name: 'ssl' }],
    }),
    restoreOptions: { targetDir: target },
    async checkRestored() {
      const files = (await fs.readdir(target, { recursive: true })).map(String).sort();
      expect(files).toEqual(expect.arrayContaining(['.env.production', 'ssl/cert.pem']));
      expect(await fs.readFile(join(target, '.env.production'), 'utf8')).toBe(
        'APP_KEY=conformance\n',
      );
      expect(await fs.readFile(join(target, 'ssl', 'cert.pem'), 'utf8')).toBe('CERT\n');
    },
    cleanup: () => fs.rm(work, { recursive: true, force: true }),
  };
});
