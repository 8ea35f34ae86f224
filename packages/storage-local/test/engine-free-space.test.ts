import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function engineOn(dir: string, minFreeBytes: number, at: string) {
  return createEngine({
    sources: [fileSource({ 'a.txt': 'x'.repeat(100) }).source],
    storage: localStorage({ dir }),
    retention: { days: 30 },
    health: { maxAgeHours: 25, minFreeBytes },
    now: () => new Date(at),
  });
}

describe('engine on a real disk', () => {
  it('below HEALTH_MIN_FREE_BYTES warns; above it does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-status-'));
    dirs.push(dir);
    const huge = engineOn(dir, Number.MAX_SAFE_INTEGER, '2026-03-01T02:00:00Z');
    const low = await huge.backup();
    expect(low.warnings.map((w) => w.code)).toEqual(['LOW_FREE_SPACE']);
    expect(low.pruned).toEqual([]);
    const fine = engineOn(dir, 1024, '2026-03-01T03:00:00Z');
    expect((await fine.backup()).warnings).toEqual([]);
    expect(await fine.list()).toHaveLength(2);
  });
});
