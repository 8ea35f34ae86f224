import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Help that answers, and exit codes that tell a usage error from a failed operation. */
describe('help', () => {
  it('`lifeboat` alone prints the help on standard output, exit 0', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: lifeboat /);
    expect(r.stdout).toContain('backup');
    expect(r.stdout).toContain('DATABASE_URL');
    expect(r.stderr).toBe('');
  });

  it.each([
    'backup',
    'list',
    'verify',
    'restore',
    'prune',
    'status',
    'health',
    'report',
    'metrics',
    'audit',
    'notify-test',
    'run',
  ])(
    '`lifeboat %s --help`: its options, the global options, its variables, two examples',
    async (command) => {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: lifeboat ${command}`));
      expect(r.stdout).toContain('Global Options:');
      expect(r.stdout).toContain('--quiet');
      expect(r.stdout).toContain('Environment');
      const examples = r.stdout.slice(r.stdout.indexOf('Examples:')).split('\n').slice(1);
      expect(examples.filter((l) => l.startsWith('  ')).length).toBeGreaterThanOrEqual(2);
    },
  );

  it('run --help lists the schedule and health options and their variables', async () => {
    const r = await runCli(['run', '--help']);
    for (const word of ['--schedule', '--health-port', '--health-host', 'SCHEDULE', 'HEALTH_PORT'])
      expect(r.stdout).toContain(word);
    expect(r.stdout).toContain('143');
  });

  it('restore --help lists its own options and the database variables', async () => {
    const r = await runCli(['restore', '--help']);
    for (const flag of ['--target-database', '--target-url', '--tables', '--as-suffix', '--only'])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('DATABASE_URL');
    expect(r.stdout).toContain('PGHOST');
  });
});

describe('usage errors', () => {
  it.each([
    [['backup', '--bogus'], 2],
    [['nope'], 2],
    [['list', '--jobs'], 2],
    [['health', '--bogus'], 3],
  ] as const)('%j exits %i, not 1 (a failed operation)', async (args, code) => {
    const r = await runCli([...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/error: /);
  });
});
