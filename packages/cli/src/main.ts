import { resolve } from 'node:path';
import { LifeboatError, TOOL_VERSION, toLifeboatError } from '@lifeboat/core';
import { memoryPlan, SETTINGS, type SettingKey, settingKeys } from '@lifeboat/preset-env';
import { Command, Option } from 'commander';
import { auditCommand } from './commands/audit.js';
import { backupCommand } from './commands/backup.js';
import { healthCommand } from './commands/health.js';
import { listCommand } from './commands/list.js';
import { metricsCommand } from './commands/metrics.js';
import { notifyTestCommand } from './commands/notify-test.js';
import { pruneCommand } from './commands/prune.js';
import { reportCommand } from './commands/report.js';
import { type RestoreFlags, restoreCommand } from './commands/restore.js';
import { type RunFlags, runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { type VerifyFlags, verifyCommand } from './commands/verify.js';
import {
  type CommandContext,
  createContext,
  type GlobalOptions,
  userDirectory,
} from './context.js';
import './error-hints.js';
import { addCommandHelp } from './help.js';
import { createIO } from './io.js';
import { startMemoryGuard } from './memory.js';
import { onInterrupt } from './signals.js';

const SETTINGS_HELP = `
Settings (flags > environment > --config file; any variable may be NAME_FILE, a file holding the value):
${settingKeys.map((k) => `  ${SETTINGS[k].env.padEnd(31)} config key "${k}"`).join('\n')}

Examples:
  DATABASE_URL=postgres://postgres@localhost/app CONFIG_FILES=.env.production SSL_DIR=./ssl lifeboat backup
  lifeboat list --json
  lifeboat verify latest --deep
  lifeboat restore latest --target-database app_restored
  lifeboat restore latest --in-place
  lifeboat restore latest --target-database app --tables users,organizations --as-suffix _restored
  lifeboat restore latest --only config --config-dir /tmp/config
`;

interface RunOptions {
  /** Exit code of a failed operation (health: 2, CRITICAL). */
  failureCode?: number;
  /** Exit code of a usage error: a bad flag or setting (health: 3, UNKNOWN). */
  usageCode?: number;
  /** Ctrl-C and SIGTERM abort the operation through its AbortSignal instead of killing it. */
  cancellable?: boolean;
  /** What the one line printed on cancellation says was undone (given what the command threw). */
  cancelNote?: string | ((thrown: LifeboatError) => string);
}

/** Runs a command with its context; maps errors to the exit codes of CLI.md. */
async function run(
  global: GlobalOptions & {
    requireSources?: boolean;
    /** Settings given as this command's flags. */
    flags?: Partial<Record<SettingKey, unknown>>;
  },
  name: string,
  body: (ctx: CommandContext) => Promise<number>,
  options: RunOptions = {},
): Promise<number> {
  let ctx: CommandContext | undefined;
  let stopGuard: (() => void) | undefined;
  const interrupt = options.cancellable ? onInterrupt() : undefined;
  try {
    ctx = createContext(global, {
      ...(interrupt ? { signal: interrupt.signal } : {}),
      ...(global.flags ? { flags: global.flags } : {}),
    });
    const step = memoryPlan(ctx.settings.memoryLimit).gcStepBytes;
    // Young collections free a backup's socket chunks; they only cost a restore (memory.ts).
    const backs = name === 'backup' || name === 'run';
    stopGuard = startMemoryGuard(step, backs ? { youngStepBytes: step / 4 } : {});
    return await body(ctx);
  } catch (error) {
    const e = toLifeboatError(error);
    const signal = interrupt?.received();
    if (interrupt && signal) {
      // One line, whatever the operation threw on its way out: the operator asked for this.
      const note =
        typeof options.cancelNote === 'function' ? options.cancelNote(e) : options.cancelNote;
      ctx?.logger.warn({ event: 'cancelled', signal, code: e.code }, `${name} cancelled`);
      process.stderr.write(`lifeboat: ${name} cancelled by ${signal}${note ? `: ${note}` : ''}\n`);
      return interrupt.exitCode();
    }
    ctx?.logger.error({ code: e.code }, e.message);
    (ctx?.io ?? createIO({ json: Boolean(global.json) })).error(e);
    return e.code === 'CONFIG_INVALID' ? (options.usageCode ?? 2) : (options.failureCode ?? 1);
  } finally {
    stopGuard?.();
    interrupt?.dispose();
    await ctx?.close().catch(() => {});
  }
}

/** Collects a repeatable option's values. */
const repeat = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('lifeboat')
    .description(
      'Back up, verify and restore PostgreSQL, config files and SSL folders — to a folder or S3.',
    )
    .version(TOOL_VERSION)
    .addOption(
      new Option('-c, --config <file>', 'JSON config file (validated; unknown keys are errors)'),
    )
    .addOption(
      new Option(
        '--json',
        'print exactly one JSON document on standard output; logs go to standard error',
      ),
    )
    .addOption(
      new Option('--log-file <file>', 'also write structured logs here, rotated daily (LOG_FILE)'),
    )
    .addOption(
      new Option(
        '-j, --jobs <n>',
        'database connections at once for backup, restore and verify --deep (BACKUP_JOBS; default 2)',
      ),
    )
    .addOption(
      new Option(
        '--memory-limit <size>',
        'peak memory to stay within, such as 64MiB: under 128MiB one connection and smaller buffers (BACKUP_MEMORY_LIMIT)',
      ),
    )
    .addOption(
      new Option(
        '-q, --quiet',
        'print nothing on success (failures still reach standard error); for cron',
      ),
    )
    .addHelpText('after', SETTINGS_HELP)
    .showHelpAfterError('(run with --help for usage)')
    // Set before the commands are added: they inherit both.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  const global = () => program.opts<GlobalOptions>();
  const action =
    <A extends unknown[]>(
      body: (ctx: CommandContext, ...args: A) => Promise<number>,
      options: RunOptions & { requireSources?: boolean; ignoreBadRetention?: boolean } = {},
    ) =>
    async (...args: A) => {
      // Commander passes the command itself last.
      const name = (args.at(-1) as Command).name();
      const { requireSources, ignoreBadRetention, ...runOptions } = options;
      setExit(
        await run(
          {
            ...global(),
            ...(requireSources ? { requireSources } : {}),
            ...(ignoreBadRetention ? { ignoreBadRetention } : {}),
          },
          name,
          (ctx) => body(ctx, ...args),
          runOptions,
        ),
      );
    };

  program
    .command('backup')
    .description(
      'one backup of every configured source to the storage, then prune, then notify (exit 0 stored, 1 failed)',
    )
    .option(
      '--allow-incomplete',
      'store the archive even when some objects cannot be backed up faithfully; they are named, the archive is marked incomplete and health warns (BACKUP_ALLOW_INCOMPLETE)',
    )
    .option(
      '--filter <file>',
      "only what pg_dump's --filter file chooses: include|exclude table|schema PATTERN, exclude table_data PATTERN (BACKUP_FILTER)",
    )
    .action(async (flags: { allowIncomplete?: boolean; filter?: string }) => {
      setExit(
        await run(
          {
            ...global(),
            requireSources: true,
            flags: {
              ...(flags.allowIncomplete ? { allowIncomplete: true } : {}),
              // The user's folder, also under `pnpm lifeboat` (which runs elsewhere).
              ...(flags.filter ? { backupFilter: resolve(userDirectory(), flags.filter) } : {}),
            },
          },
          'backup',
          (ctx) => backupCommand(ctx),
          {
            cancellable: true,
            cancelNote: 'nothing was stored (partial archive and lock removed)',
          },
        ),
      );
    });

  program
    .command('run')
    .description(
      'stays running: the backup job on a cron schedule (UTC), never overlapping, optional health endpoints (exit 143/130 on SIGTERM/Ctrl-C)',
    )
    .option('--schedule <cron>', 'when to back up, such as "0 2 * * *" (SCHEDULE)')
    .option(
      '--health-port <n>',
      'serve /healthz (liveness), /health (backup health) and /metrics on this port (HEALTH_PORT; 0: any free port)',
    )
    .option(
      '--health-host <address>',
      'address the health port listens on (HEALTH_HOST; default 0.0.0.0)',
    )
    .action(async (flags: RunFlags) => {
      setExit(
        await run(
          {
            ...global(),
            requireSources: true,
            flags: {
              ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
              ...(flags.healthPort !== undefined ? { healthPort: flags.healthPort } : {}),
              ...(flags.healthHost !== undefined ? { healthHost: flags.healthHost } : {}),
            },
          },
          'run',
          (ctx) => runCommand(ctx),
          {
            cancellable: true,
            cancelNote: (thrown) => `the schedule stopped; ${thrown.message}`,
          },
        ),
      );
    });

  program
    .command('list')
    .description('the archives in the storage, newest first')
    .argument('[id]', 'with --entries: archive file name, or "latest"')
    .option('--entries', "the archive's tables and files with sizes and rows, from its index")
    .action(
      action(
        (ctx, id: string | undefined, flags: { entries?: boolean }) => listCommand(ctx, id, flags),
        { ignoreBadRetention: true },
      ),
    );

  program
    .command('verify')
    .argument(
      '[id]',
      'archive file name (with or without extensions), "latest" or "random"',
      'latest',
    )
    .option('--deep', 'restore into a scratch database and compare with the manifest')
    .option(
      '--allow-newer-archive',
      'with --deep: try an archive from a newer PostgreSQL than the server (RESTORE_VERSION_NEWER otherwise)',
    )
    .option(
      '--tables <a,b>',
      "check only these tables' entries ('user*', 'app.*' patterns as restore --tables), reading only the members holding them; not a verify of the whole archive, and not recorded as one",
    )
    .option(
      '--only <section>',
      'check only "database" or only "config" entries (as restore --only); not recorded as a verify',
    )
    .description('checks an archive against its manifest (exit 0 ok, 1 problems found)')
    .action(
      action((ctx, id: string, opts: VerifyFlags) => verifyCommand(ctx, id, opts), {
        cancellable: true,
        ignoreBadRetention: true,
      }),
    );

  program
    .command('restore')
    .argument('[id]', 'archive file name, or "latest"', 'latest')
    .option(
      '--tables <a,b>',
      "only these tables ('user*', 'app.*' patterns as pg_dump -t), replacing their rows (one transaction per table)",
    )
    .option(
      '--target-database <name>',
      'restore into this database (created if absent); the configured one only when named here',
    )
    .option(
      '--target-url <url>',
      'restore into the database at this connection string; TARGET_DATABASE_URL(_FILE) keeps its password out of the process list',
    )
    .option(
      '--in-place',
      'restore into the configured database itself (the emergency case: it was lost)',
    )
    .option(
      '--clean',
      'drop what exists in the target first (asks you to type the database name on a terminal)',
    )
    .option('-y, --yes', 'confirm --clean into a non-empty database without asking (scripts)')
    .option('--as-suffix <suffix>', 'restore tables side by side, e.g. users → users_restored')
    .option('--config-dir <dir>', 'restore config files into this folder')
    .option('--only <section>', 'only "database" or only "config"')
    .option('--overwrite', 'replace existing config files (each old file is kept as NAME.bak)')
    // What a full restore leaves out, as pg_restore's options of the same names.
    .option(
      '--schema-only',
      'objects only: no rows, sequence values or large objects (into an empty or --clean target)',
    )
    .option(
      '--data-only',
      'rows, sequence values and large objects only, into existing empty tables (triggers held)',
    )
    .option('--no-owner', 'objects stay owned by the restoring user (no ALTER … OWNER)')
    .option('--no-privileges', 'no GRANT/REVOKE (also --no-acl)')
    .option('--no-acl', 'same as --no-privileges')
    .option('--no-policies', 'no row-level security policies, and row security stays off')
    .option('--no-comments', 'no COMMENT ON')
    .option('--no-publications', 'no publications')
    .option('--no-subscriptions', 'no subscriptions')
    .option(
      '--schema <pattern>',
      'only objects in this schema (repeatable; pg_dump patterns)',
      repeat,
      [],
    )
    .option('--exclude-schema <pattern>', 'no objects in this schema (repeatable)', repeat, [])
    .option(
      '--exclude-table-data <pattern>',
      'create the table, load none of its rows (repeatable; schema.table patterns)',
      repeat,
      [],
    )
    .option(
      '--filter <file>',
      "pg_dump's --filter file: include|exclude schema, exclude table_data, include table (as --tables)",
    )
    .option(
      '--no-tablespaces',
      "every object in the target database's default tablespace (as pg_restore --no-tablespaces)",
    )
    .option(
      '--tablespace-map <old=new>',
      'objects the archive kept in tablespace OLD go to NEW (repeatable); a tablespace the target lacks: TABLESPACE_MISSING, default one',
      repeat,
      [],
    )
    .option(
      '--allow-newer-archive',
      'try an archive from a newer PostgreSQL major version than the target (RESTORE_VERSION_NEWER otherwise)',
    )
    .option(
      '--no-analyze',
      'no planner statistics: neither the archived ones (PostgreSQL 18+) nor ANALYZE (older servers)',
    )
    .option(
      '--globals',
      'create the roles the archive holds (BACKUP_GLOBALS) that the server lacks, before anything else; existing roles are left as they are',
    )
    .description('full or partial restore (exit 0 done, 1 failed)')
    .action(
      action(
        (ctx, id: string, flags: RestoreFlags) =>
          restoreCommand(ctx, id, {
            ...flags,
            // The user's folder, also under `pnpm lifeboat` (which runs elsewhere).
            ...(flags.configDir ? { configDir: resolve(userDirectory(), flags.configDir) } : {}),
            ...(flags.filter ? { filter: resolve(userDirectory(), flags.filter) } : {}),
          }),
        { cancellable: true, ignoreBadRetention: true },
      ),
    );

  program
    .command('prune')
    .option('--dry-run', 'list what would be deleted, and why, without deleting')
    .description('applies retention (BACKUP_RETENTION_DAYS, BACKUP_KEEP_*)')
    .action(
      action((ctx, opts: { dryRun?: boolean }) => pruneCommand(ctx, opts), { cancellable: true }),
    );

  program
    .command('status')
    .description('last success and its age, recent runs, sizes, durations, success rate')
    .action(action((ctx) => statusCommand(ctx), { ignoreBadRetention: true }));

  program
    .command('health')
    .option('--alert', 'send an alert e-mail when the result is not OK')
    .description(
      'database, storage, free space, age of last success, mail server (exit 0 OK, 1 WARNING, 2 CRITICAL)',
    )
    .action(
      action((ctx, opts: { alert?: boolean }) => healthCommand(ctx, opts), {
        failureCode: 2,
        usageCode: 3,
      }),
    );

  program
    .command('report')
    .option('--days <n>', 'how many days back', '7')
    .description('trends: duration, size and success rate per day')
    .action(action((ctx, opts: { days: string }) => reportCommand(ctx, opts)));

  program
    .command('metrics')
    .description(
      'the status and history in the Prometheus text format (METRICS_FILE writes the same after every run)',
    )
    .action(action((ctx) => metricsCommand(ctx)));

  program
    .command('audit')
    .description(
      'security findings: permissions, secrets in logs, unencrypted secrets, unsafe retention (exit 0 none, 1 findings)',
    )
    .action(action((ctx) => auditCommand(ctx)));

  program
    .command('notify-test')
    .description(
      'sends a test message through every configured notifier (exit 0 delivered, 1 failed)',
    )
    .action(action((ctx) => notifyTestCommand(ctx)));

  addCommandHelp(program);
  return program;
}

/** Usage errors exit 2; `health` exits 3 (UNKNOWN), as Nagios plugins do. */
const USAGE_EXIT: Record<string, number> = { health: 3 };

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  // `lifeboat` alone: the help, on standard output, as a question answered (exit 0).
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  let command: string | undefined;
  program.hook('preSubcommand', (_, sub) => {
    command = sub.name();
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (
      e.code === 'commander.helpDisplayed' ||
      e.code === 'commander.version' ||
      e.code === 'commander.help'
    )
      return 0;
    if (typeof e.exitCode === 'number')
      return e.exitCode === 0 ? 0 : (USAGE_EXIT[command ?? ''] ?? 2);
    throw new LifeboatError('INTERNAL', String(error), { cause: error });
  }
  return code;
}
