import { isAbsolute, resolve } from 'node:path';
import type { Engine, Heartbeat } from '@lifeboat/core';
import {
  buildEngine,
  buildHeartbeat,
  fromEnv,
  fromFile,
  resolvePaths,
  resolveSettings,
  type SettingKey,
  type SettingLabels,
  type Settings,
} from '@lifeboat/preset-env';
import { createIO, type IO } from './io.js';
import { createLogger, type Logger } from './logger.js';
import { writeMetricsFile } from './metrics-file.js';
import { attachProgress } from './progress.js';

/** Events that end a recorded run: METRICS_FILE is rewritten after any of them. */
const RUN_ENDS = [
  'backup:succeeded',
  'backup:failed',
  'verify:succeeded',
  'verify:failed',
  'prune:planned',
] as const;

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logFile?: string;
  quiet?: boolean;
  /** `-j, --jobs`: database connections at once (BACKUP_JOBS). */
  jobs?: string;
  /** `--memory-limit`: peak memory to stay within (BACKUP_MEMORY_LIMIT). */
  memoryLimit?: string;
}

export interface CommandContext {
  io: IO;
  settings: Settings;
  logger: Logger;
  /** Aborted by Ctrl-C or SIGTERM: pass it to every long operation. */
  signal: AbortSignal;
  /** Builds the engine (with progress and logging attached) on first use. */
  engine(): Promise<Engine>;
  /** HEARTBEAT_URL's pinger, watching the engine's backups (once the engine is built). */
  heartbeat(): Heartbeat | undefined;
  /**
   * Rewrites METRICS_FILE if a run ended since the last write (close() does it too); a
   * long-running scheduler calls it after each run. Never throws: a failure is a warning.
   */
  writeMetrics(): Promise<void>;
  close(): Promise<void>;
}

/** Retention is for backup and prune: a bad value must not stop a restore. */
const RETENTION: SettingKey[] = [
  'retentionDays',
  'keepLast',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
];

/** The directory the user ran the command from: pnpm runs scripts elsewhere, passing INIT_CWD. */
export const userDirectory = (env: NodeJS.ProcessEnv = process.env) =>
  env.INIT_CWD || process.cwd();

/** libpq's file variables, read by the driver and the SSL setup from process.env. */
const LIBPQ_FILES = ['PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLCRL', 'PGPASSFILE'];

/** A relative libpq file path is the user's too (pnpm runs the command elsewhere). */
function libpqPathsFrom(cwd: string): void {
  for (const name of LIBPQ_FILES) {
    const value = process.env[name];
    if (value && value !== 'system' && !isAbsolute(value)) process.env[name] = resolve(cwd, value);
  }
}

export function createContext(
  global: GlobalOptions & { requireSources?: boolean; ignoreBadRetention?: boolean },
  options: {
    flags?: Partial<Record<SettingKey, unknown>>;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
  } = {},
): CommandContext {
  const env = options.env ?? process.env;
  const quiet = Boolean(global.quiet);
  const io = createIO({ json: Boolean(global.json), quiet });
  const cwd = userDirectory(env);
  const configPath = global.config ? resolve(cwd, global.config) : undefined;
  if (env === process.env) libpqPathsFrom(cwd);
  const envLabels: SettingLabels = {};
  const ignored: string[] = [];
  const settings = resolvePaths(
    resolveSettings(
      {
        ...(configPath ? { file: fromFile(configPath) } : {}),
        env: fromEnv(env, envLabels, cwd),
        flags: {
          ...options.flags,
          ...(global.logFile ? { logFile: global.logFile } : {}),
          ...(global.jobs !== undefined ? { jobs: global.jobs } : {}),
          ...(global.memoryLimit !== undefined ? { memoryLimit: global.memoryLimit } : {}),
        },
      },
      {
        labels: {
          env: envLabels,
          flags: {
            logFile: '--log-file',
            jobs: '--jobs',
            memoryLimit: '--memory-limit',
            allowIncomplete: '--allow-incomplete',
            backupFilter: '--filter',
            schedule: '--schedule',
            healthPort: '--health-port',
            healthHost: '--health-host',
          },
          ...(global.config ? { file: global.config } : {}),
        },
        ...(global.ignoreBadRetention
          ? { lenient: RETENTION, onIgnored: (m: string) => ignored.push(m) }
          : {}),
      },
    ),
    cwd,
  );
  for (const m of ignored) io.warn('SETTING_IGNORED', `${m}; ignored (retention is not used here)`);
  // Standard error gets readable lines (a redrawn status line on a terminal); LOG_FORMAT=json
  // makes it JSON lines instead, as LOG_FILE always has. --quiet: nothing unless it fails.
  const jsonLogs = settings.logFormat === 'json';
  const logger = createLogger({
    ...(settings.logFile ? { file: settings.logFile } : {}),
    retentionDays: settings.logRetentionDays ?? 30,
    stderr: jsonLogs && !quiet,
  });
  let engine: Engine | undefined;
  let heartbeat: Heartbeat | undefined;
  let ran = false;
  const writeMetrics = async (): Promise<void> => {
    if (!engine || !ran || !settings.metricsFile) return;
    ran = false;
    // After every run, success or failure: the textfile collector shows what happened.
    const file = settings.metricsFile;
    await engine
      .metrics()
      .then((text) => writeMetricsFile(file, text))
      .catch((error) => {
        const message = `Could not write METRICS_FILE ${file}: ${(error as Error).message}`;
        logger.warn({ code: 'METRICS_FILE_FAILED' }, message);
        if (!jsonLogs) io.warn('METRICS_FILE_FAILED', message);
      });
  };
  return {
    io,
    settings,
    logger,
    signal: options.signal ?? new AbortController().signal,
    async engine() {
      if (engine) return engine;
      engine = await buildEngine(settings, {
        requireSources: Boolean(global.requireSources),
        onWarning: (code, message) => {
          logger.warn({ code }, message);
          if (!jsonLogs) io.warn(code, message);
        },
      });
      logger.attach(engine.events);
      if (!quiet && !jsonLogs) attachProgress(engine.events, io);
      heartbeat = buildHeartbeat(settings);
      heartbeat?.watch(engine.events);
      for (const name of RUN_ENDS) engine.events.on(name, () => (ran = true));
      return engine;
    },
    heartbeat: () => heartbeat,
    writeMetrics,
    async close() {
      // Pings in flight are bounded by their timeouts; a failed one is already a warning.
      await heartbeat?.settle();
      await writeMetrics();
      await engine?.close();
      await logger.close();
    },
  };
}
