import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorDefinition, hostHint } from '@lifeboat/core';
import { expect, it } from 'vitest';
import { CLI_ERROR_HINTS } from '../src/error-hints.js';

const PACKAGES = fileURLToPath(new URL('../..', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

// Every situation a package names with hostHint('…') has the CLI's words: a hint the SDK gives in
// its options' names (`dir`, `bucket`) reaches a CLI user with the setting to change.
it('every hostHint key of core and the plugins has a hint naming the CLI settings', async () => {
  const keys = new Set<string>();
  for (const pkg of await readdir(PACKAGES)) {
    if (pkg === 'cli') continue;
    const src = join(PACKAGES, pkg, 'src');
    for (const file of await sources(src).catch(() => [])) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/hostHint\(\s*['`]([^'`$]+)/g))
        keys.add(m[1]!);
    }
  }
  // Core's per-source key is a template: its bundled source's entry stands for it.
  keys.delete('source-missing:');
  expect(keys.size).toBeGreaterThanOrEqual(15);
  for (const key of keys) {
    const hint = hostHint(key as `${string}:${string}`, '');
    expect(hint, key).not.toBe('');
  }
  expect(hostHint('s3:unreachable', '')).toContain('S3_ENDPOINT');
  expect(hostHint('smtp:auth', '')).toContain('SMTP_USER and SMTP_PASS');
  expect(hostHint('local:missing', '')).toContain('`lifeboat backup`');
  expect(hostHint('audit:no-retention', '')).toContain('BACKUP_RETENTION_DAYS=30');
  // Options named in messages get their variables, from the settings that feed them.
  expect(hostHint('local:dir', '')).toBe('BACKUP_DIR');
  expect(hostHint('postgres:jobs', '')).toBe('BACKUP_JOBS');
  expect(hostHint('engine:allowIncomplete', '')).toBe('BACKUP_ALLOW_INCOMPLETE');
  expect(errorDefinition('STORAGE_NOT_FOUND').hint).toBe(CLI_ERROR_HINTS.STORAGE_NOT_FOUND);
});
