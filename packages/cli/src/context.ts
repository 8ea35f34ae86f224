import type { Engine } from '@lifeboat/core';
import { createIO, type IO } from './io.js';
import { fromEnv, fromFile, resolveSettings } from './load-settings.js';
import { createLogger, type Logger } from './logger.js';
import { attachProgress } from './progress.js';
import type { SettingKey, Settings } from './settings.js';
import { buildEngine } from './wiring.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logFile?: string;
  quiet?: boolean;
  /** `-j, --jobs`: database connections at once (BACKUP_JOBS). */
  jobs?: string;
}

export interface CommandContext {
  io: IO;
  settings: Settings;
  logger: Logger;
  /** Builds the engine (with progress and logging attached) on first use. */
  engine(): Promise<Engine>;
  close(): Promise<void>;
}

export function createContext(
  global: GlobalOptions & { requireSources?: boolean },
  flags: Partial<Record<SettingKey, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): CommandContext {
  const io = createIO({ json: Boolean(global.json) });
  const settings = resolveSettings({
    ...(global.config ? { file: fromFile(global.config) } : {}),
    env: fromEnv(env),
    flags: {
      ...flags,
      ...(global.logFile ? { logFile: global.logFile } : {}),
      ...(global.jobs !== undefined ? { jobs: global.jobs } : {}),
    },
  });
  const logger = createLogger({
    ...(settings.logFile ? { file: settings.logFile } : {}),
    retentionDays: settings.logRetentionDays ?? 30,
    // People at a terminal get the progress display; pipes and files get structured lines.
    stderr: !io.tty,
  });
  let engine: Engine | undefined;
  return {
    io,
    settings,
    logger,
    async engine() {
      if (engine) return engine;
      engine = await buildEngine(settings, {
        requireSources: Boolean(global.requireSources),
        onWarning: (code, message) => {
          logger.warn({ code }, message);
          if (io.tty || !global.quiet) io.note(`warning ${code}: ${message}`);
        },
      });
      logger.attach(engine.events);
      if (!global.quiet && io.tty) attachProgress(engine.events, io);
      return engine;
    },
    async close() {
      await engine?.close();
      await logger.close();
    },
  };
}
