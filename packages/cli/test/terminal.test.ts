import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './run-cli.js';

// `script` (util-linux) gives the command a real pseudo-terminal, as a person's shell would.
const hasScript = await new Promise<boolean>((resolve) => {
  const c = spawn('script', ['--version'], { stdio: 'ignore' });
  c.on('error', () => resolve(false));
  c.on('close', (code) => resolve(code === 0));
});

let work: string;
let env: Record<string, string>;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-tty-'));
  const files: string[] = [];
  for (let i = 0; i < 5; i++) {
    const file = join(work, `file-${i}.conf`);
    await fs.writeFile(file, Buffer.alloc(2 * 1024 * 1024, i));
    files.push(file);
  }
  env = { BACKUP_DIR: join(work, 'backups'), CONFIG_FILES: files.join(',') };
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

function inTerminal(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TERM: 'xterm',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe.skipIf(!hasScript)('progress display', () => {
  it('redraws one status line on a terminal', async () => {
    const out = await inTerminal(['backup']);
    expect(out).toContain('\r\x1b[K');
    expect(out).toMatch(/file-\d\.conf/);
    expect(out).toMatch(/MiB\/s|KiB\/s|B\/s/);
    expect(out).toContain('stored critical_backup_');
  });

  it('prints plain lines without control characters into a pipe', async () => {
    const r = await runCli(['backup'], env);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout + r.stderr).not.toMatch(/\x1b\[|\r/);
    expect(r.stdout).toContain('stored critical_backup_');
    // A pipe gets structured log lines on stderr, one per step.
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(['backup:started', 'backup:succeeded']),
    );
  });
});
