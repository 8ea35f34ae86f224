import './errors.js';
import * as fs from 'node:fs/promises';
import {
  type HealthCheck,
  hostHint,
  LifeboatError,
  parseOptions,
  type Source,
} from '@lifeboat/core';
import { backupConfig, type ConfigSummary } from './backup.js';
import { resolveNames } from './names.js';
import { type ConfigFilesOptions, configFilesOptionsSchema } from './options.js';
import { checkConfigRestore, restoreConfig } from './restore.js';
import { type ConfigFilesRestoreOptions, configRestoreOptionsOf } from './restore-options.js';

/** Config files and folders (`.env.production`, `nginx.prod.conf`, `ssl/`), archived under `config/`. */
export function configFilesSource(input: ConfigFilesOptions) {
  const options = parseOptions(configFilesOptionsSchema, input, 'config files');
  const configured = resolveNames(options.files, options.directories);
  return {
    id: 'config-files',
    section: 'config',
    describe: () =>
      [
        ...configured.files.map((f) => f.path),
        ...configured.directories.map((d) => `${d.path}/`),
      ].join(', '),
    /** Finds every required file or folder that is missing before the backup reads anything. */
    async connect() {
      const missing: string[] = [];
      for (const item of [...configured.files, ...configured.directories]) {
        if (item.optional) continue;
        try {
          await fs.access(item.path, fs.constants.R_OK);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          missing.push(`${item.path} (${code === 'ENOENT' ? 'does not exist' : 'not readable'})`);
        }
      }
      if (missing.length > 0) {
        throw new LifeboatError(
          'FILE_MISSING',
          `Config file${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`,
          {
            hint: hostHint(
              'config-files:missing',
              'Fix the files / directories options, or mark a file optional ({ path, optional: true }).',
            ),
          },
        );
      }
    },
    async close() {},
    backup: (ctx) => backupConfig(ctx, configured.files, configured.directories),
    // The options come from a script or the CLI: parsed before they are used.
    checkRestore: (ctx) =>
      checkConfigRestore({ ...ctx, options: configRestoreOptionsOf(ctx.options) }, configured),
    restore: (ctx) =>
      restoreConfig({ ...ctx, options: configRestoreOptionsOf(ctx.options) }, configured),
    // One name whatever the outcome, also when getting ready fails (core's fallback).
    healthName: 'config-files',
    async health() {
      const checks: HealthCheck[] = [];
      for (const item of [...configured.files, ...configured.directories]) {
        try {
          await fs.access(item.path, fs.constants.R_OK);
        } catch (error) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          checks.push({
            name: 'config-files',
            status: item.optional ? 'warning' : 'critical',
            message: `${item.path} ${missing ? 'does not exist' : 'is not readable'}`,
          });
        }
      }
      if (checks.length === 0) {
        checks.push({
          name: 'config-files',
          status: 'ok',
          message: `${configured.files.length + configured.directories.length} path(s) readable`,
        });
      }
      return checks;
    },
    report(summary, entries) {
      const files = (summary.files as { path: string }[] | undefined) ?? [];
      return {
        files: entries.filter((e) => e.type === 'file').length,
        lines: files.map((f) => f.path),
      };
    },
    manualRestoreSteps(summary) {
      const files = (summary.files as { path: string; source: string }[] | undefined) ?? [];
      const dirs = (summary.directories as { path: string; source: string }[] | undefined) ?? [];
      return [
        '# copy each file back to where it came from (keep the old one):',
        ...files
          .filter((f) => !dirs.some((d) => f.path.startsWith(d.path)))
          .map((f) => `cp -p --backup=simple ${f.path} ${f.source}`),
        ...dirs.map((d) => `cp -pr ${d.path}. ${d.source}/`),
        '# private keys must stay private:',
        'chmod 600 config/ssl/*.key 2>/dev/null || true',
      ];
    },
  } satisfies Source<ConfigSummary, ConfigFilesRestoreOptions>;
}
