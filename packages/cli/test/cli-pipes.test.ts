import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './run-cli.js';

/**
 * `lifeboat list | head -1`, `lifeboat backup 2>&1 | head`: the reader goes away while the
 * command still writes. Node then gets EPIPE on the stream; the command must neither crash with
 * a stack trace nor stop a backup halfway.
 */
let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-pipes-'));
  await fs.writeFile(join(work, '.env.production'), 'APP_URL=https://example.com\n');
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Runs the CLI with standard output and/or error closed by the reader before anything is read. */
function runClosed(args: string[], close: ('stdout' | 'stderr')[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    if (close.includes('stderr')) child.stderr.destroy();
    else child.stderr.on('data', (d) => (stderr += d));
    if (close.includes('stdout')) child.stdout.destroy();
    else child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('output to a reader that went away', () => {
  it('help and a list end normally, without a stack trace', async () => {
    // An existing, empty folder: a missing one is an error for read-only commands.
    const env = { BACKUP_DIR: join(work, 'empty') };
    await fs.mkdir(env.BACKUP_DIR, { recursive: true });
    for (const args of [['--help'], ['list'], ['list', '--json']]) {
      const result = await runClosed(args, ['stdout'], env);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    }
  });

  it('a backup whose output and logs nobody reads is still stored, and exits 0', async () => {
    for (const [i, args] of [['backup'], ['backup', '--json']].entries()) {
      const dir = join(work, `backups${i}`);
      const env = { BACKUP_DIR: dir, CONFIG_FILES: '.env.production' };
      const result = await runClosed(args, ['stdout', 'stderr'], env);
      expect(result.code, args.join(' ')).toBe(0);
      const archives = (await fs.readdir(dir)).filter((f) => f.endsWith('.tar.gz'));
      expect(archives).toHaveLength(1);
    }
  });
});
