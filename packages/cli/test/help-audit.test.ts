import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS, settingKeys } from '@lifeboat/preset-env';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/main.js';
import { runCli } from './run-cli.js';

/**
 * Every registered command, taken from the program itself (a command added later is audited
 * without touching this file): its --help lists each of its options, the global options, the
 * environment variables that apply (each read somewhere in the sources) and two examples; a
 * bad flag is a usage error (exit 2; health 3).
 */
const program = buildProgram(() => {});
const commands = program.commands.map((c) => c.name());
const globalFlags = program.options.map((o) => o.long ?? o.short ?? o.flags);

/** Every string the packages' sources hold, help.ts aside (it only names variables). */
const packages = fileURLToPath(new URL('../../', import.meta.url));
const sources = (() => {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && name !== 'help.ts') out.push(readFileSync(path, 'utf8'));
    }
  };
  for (const p of readdirSync(packages)) {
    try {
      walk(join(packages, p, 'src'));
    } catch {}
  }
  return out.join('\n');
})();
/** A variable is read where its name is a string literal or a key (`env: 'BACKUP_DIR'`, `PGSSLMODE:`). */
const isRead = (name: string): boolean =>
  new RegExp(`['"\`]${name}['"\`]|\\b${name}:|env\\.${name}\\b|${name}_FILE`).test(sources) ||
  // NAME_FILE forms are read generically, from the setting's own name.
  (name.endsWith('_FILE') && isRead(name.slice(0, -'_FILE'.length)));

/** Variables that libraries read themselves (pg reads PGPASSFILE through pgpass). */
const READ_BY_LIBRARIES = new Set(['PGPASSFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

/** Every variable some command's help lists. */
const listed = new Set<string>();

describe('help audit', () => {
  it('finds the commands in the program', () => {
    expect(commands.length).toBeGreaterThanOrEqual(12);
    expect(commands).toContain('backup');
  });

  it.each(commands)(
    '`lifeboat %s --help` lists options, globals, variables, two examples',
    async (name) => {
      const command = program.commands.find((c) => c.name() === name)!;
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const out = r.stdout;
      expect(out).toMatch(new RegExp(`^Usage: lifeboat ${name}`));
      for (const option of command.options) expect(out).toContain(option.long ?? option.flags);
      expect(out).toContain('Global Options:');
      for (const flag of globalFlags) expect(out).toContain(flag);

      const envAt = out.indexOf('\nEnvironment');
      const examplesAt = out.indexOf('\nExamples:');
      expect(envAt, 'an Environment section').toBeGreaterThan(0);
      expect(examplesAt, 'an Examples section').toBeGreaterThan(envAt);
      const envLines = out
        .slice(envAt, examplesAt)
        .split('\n')
        .slice(2)
        .filter((l) => l.trim() !== '');
      expect(envLines.length).toBeGreaterThanOrEqual(1);
      const settingNames = new Set<string>(settingKeys.map((k) => SETTINGS[k].env));
      const names = new Set(
        (envLines.join(' ').match(/\b[A-Z][A-Z0-9_]+\b/g) ?? []).filter(
          (w) => w.includes('_') || w.startsWith('PG') || settingNames.has(w),
        ),
      );
      expect(names.size).toBeGreaterThanOrEqual(1);
      for (const always of ['LOG_FILE', 'LOG_FORMAT', 'NO_COLOR', 'FORCE_COLOR'])
        expect(names).toContain(always);
      for (const n of names) listed.add(n);
      const unread = [...names].filter((n) => !READ_BY_LIBRARIES.has(n) && !isRead(n));
      expect(unread, 'variables listed but read nowhere').toEqual([]);

      const examples = out
        .slice(examplesAt + 1)
        .split('\n')
        .slice(1)
        .filter((l) => l.startsWith('  ') && l.includes('lifeboat'));
      expect(examples.length).toBeGreaterThanOrEqual(2);
    },
  );

  it('every setting is listed by the help of a command that reads it', () => {
    expect(listed.size).toBeGreaterThan(10);
    const missing = settingKeys.map((k) => SETTINGS[k].env).filter((env) => !listed.has(env));
    expect(missing).toEqual([]);
  });

  it.each(commands)('`lifeboat %s --no-such-flag` is a usage error', async (name) => {
    const r = await runCli([name, '--no-such-flag']);
    expect(r.code).toBe(name === 'health' ? 3 : 2);
    expect(r.stderr).toMatch(/error: unknown option/);
    expect(r.stdout).toBe('');
  });
});
