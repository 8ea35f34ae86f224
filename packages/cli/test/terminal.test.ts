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
    expect(out).toMatch(/rate [\d.]+ (MiB|KiB|B)\/s/);
    expect(out).toMatch(/copied [\d.]+ (MiB|KiB|B)/);
    expect(out).toContain('stored critical_backup_');
  });

  it('prints plain lines without control characters into a pipe', async () => {
    const r = await runCli(['backup'], env);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout + r.stderr).not.toMatch(/\x1b\[|\r/);
    expect(r.stdout).toContain('stored critical_backup_');
    // A pipe gets plain, readable lines on stderr, one per step: no JSON unless asked.
    expect(r.stderr).toMatch(/^backup critical_backup_\S+ → /m);
    expect(r.stderr).toMatch(/^ {2}file config\/file-0\.conf \(2\.0 MiB\)$/m);
    expect(r.stderr).not.toContain('{"level"');
  });
});

describe.skipIf(!hasScript)('colour', () => {
  it('colours status words on a terminal, not with NO_COLOR', async () => {
    const coloured = await inTerminal(['health']);
    expect(coloured).toMatch(/\x1b\[3[123]m(OK|WARNING|CRITICAL)\x1b\[39m/);
    env.NO_COLOR = '1';
    try {
      const plain = await inTerminal(['health']);
      expect(plain).toMatch(/(OK|WARNING|CRITICAL)/);
      expect(plain).not.toMatch(/\x1b\[3\dm/);
    } finally {
      delete env.NO_COLOR;
    }
  });
});
