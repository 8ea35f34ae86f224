import { readFile } from 'node:fs/promises';
import { LifeboatError, type PlannedTarget } from '@lifeboat/core';
import type { ConfigFilesRestoreOptions } from '@lifeboat/plugin-config-files';
import type { PostgresRestoreOptions } from '@lifeboat/plugin-postgres';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../io.js';
import { checkedOnly, tableList } from './selection.js';

export interface RestoreFlags {
  tables?: string;
  targetDatabase?: string;
  targetUrl?: string;
  inPlace?: boolean;
  clean?: boolean;
  yes?: boolean;
  asSuffix?: string;
  configDir?: string;
  only?: string;
  overwrite?: boolean;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  /** Commander's `--no-…` flags: false when given. */
  owner?: boolean;
  privileges?: boolean;
  acl?: boolean;
  policies?: boolean;
  comments?: boolean;
  publications?: boolean;
  subscriptions?: boolean;
  schema?: string[];
  excludeSchema?: string[];
  excludeTableData?: string[];
  filter?: string;
  /** `--no-tablespaces`: false when given. */
  tablespaces?: boolean;
  tablespaceMap?: string[];
  /** `--no-analyze`: false when given. */
  analyze?: boolean;
  allowNewerArchive?: boolean;
  /** Create the archive's missing roles first (BACKUP_GLOBALS archives). */
  globals?: boolean;
}

/** The restore-time choices the flags make (engine options of the postgres source). */
export async function restoreChoices(flags: RestoreFlags): Promise<PostgresRestoreOptions> {
  const choices: PostgresRestoreOptions = {};
  if (flags.schemaOnly) choices.schemaOnly = true;
  if (flags.dataOnly) choices.dataOnly = true;
  if (flags.owner === false) choices.noOwner = true;
  if (flags.privileges === false || flags.acl === false) choices.noPrivileges = true;
  if (flags.policies === false) choices.noPolicies = true;
  if (flags.comments === false) choices.noComments = true;
  if (flags.publications === false) choices.noPublications = true;
  if (flags.subscriptions === false) choices.noSubscriptions = true;
  if (flags.schema?.length) choices.schemas = flags.schema;
  if (flags.excludeSchema?.length) choices.excludeSchemas = flags.excludeSchema;
  if (flags.excludeTableData?.length) choices.excludeTableData = flags.excludeTableData;
  if (flags.globals) choices.globals = true;
  if (flags.tablespaces === false) choices.noTablespaces = true;
  if (flags.tablespaceMap?.length) {
    const map: Record<string, string> = {};
    for (const pair of flags.tablespaceMap) {
      // Split at the first '=': a new name may hold one.
      const at = pair.indexOf('=');
      if (at <= 0 || at === pair.length - 1) {
        throw new LifeboatError('CONFIG_INVALID', `--tablespace-map takes OLD=NEW, not "${pair}"`, {
          hint: 'for example --tablespace-map fast_ssd=pg_default (repeat it for each tablespace)',
        });
      }
      map[pair.slice(0, at)] = pair.slice(at + 1);
    }
    choices.tablespaceMap = map;
  }
  if (flags.filter) {
    try {
      choices.filter = { name: flags.filter, text: await readFile(flags.filter, 'utf8') };
    } catch (error) {
      throw new LifeboatError('CONFIG_INVALID', `--filter: cannot read ${flags.filter}`, {
        cause: error,
        hint: 'name a filter file that exists and is readable',
      });
    }
  }
  return choices;
}

async function filterFileTables(filter: PostgresRestoreOptions['filter']): Promise<string[]> {
  const { filterTables } = await import('@lifeboat/plugin-postgres');
  return filterTables({ filter });
}

/** What a section's restore did worth a word in the human summary (roles --globals created). */
function sectionNotes(summary: unknown): string {
  const s = (summary ?? {}) as { rolesCreated?: unknown; selection?: unknown };
  const notes: string[] = [];
  if (typeof s.rolesCreated === 'number')
    notes.push(`${s.rolesCreated} role${s.rolesCreated === 1 ? '' : 's'} created (--globals)`);
  // The archive holds what its backup was told to take: said, so nothing missing surprises.
  if (Array.isArray(s.selection) && s.selection.length > 0)
    notes.push(`the backup took part of the database: ${s.selection.join('; ')}`);
  return notes.length > 0 ? `: ${notes.join('; ')}` : '';
}

/** One line naming where each section goes (never a password: targets are described without). */
export function describeTargets(id: string, targets: PlannedTarget[]): string {
  const parts = targets.map((t) => {
    const notes = [
      ...(t.inPlace && t.section === 'database' ? ['in place: the configured database'] : []),
      ...(t.replaces.length > 0 ? [`replacing what it holds: ${t.replaces.join(', ')}…`] : []),
    ];
    return `${t.section} → ${t.target}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  });
  return `restore ${id} into: ${parts.join('; ') || 'nothing'}`;
}

/** On a terminal, the person types the name of each target that would lose what it holds. */
async function askOnTerminal(ctx: CommandContext, targets: PlannedTarget[]): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  // Loaded only when someone is asked: a restore run by a script never loads node:readline.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const t of targets.filter((x) => x.replaces.length > 0)) {
      const expected = t.confirmText ?? t.target;
      ctx.io.note(
        `This replaces everything ${t.target} holds now (${t.replaces.join(', ')}…); it cannot be undone.`,
      );
      const answer = await rl.question(`Type "${expected}" to go on: `);
      if (answer.trim() !== expected) return false;
    }
    return true;
  } finally {
    rl.close();
  }
}

export async function restoreCommand(
  ctx: CommandContext,
  ref: string,
  flags: RestoreFlags,
): Promise<number> {
  checkedOnly(flags.only);
  if ([flags.targetDatabase, flags.targetUrl, flags.inPlace].filter(Boolean).length > 1) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'Give one of --target-database, --target-url and --in-place, not several',
    );
  }
  if (flags.targetUrl && /^[^:/]+:\/\/[^/@]*:[^/@]*@/.test(flags.targetUrl)) {
    ctx.io.warn(
      'ARGV_SECRET',
      '--target-url holds a password, which any user of this machine can read in the process list; set TARGET_DATABASE_URL or TARGET_DATABASE_URL_FILE instead',
    );
  }
  // Flags win over the environment: TARGET_DATABASE_URL counts only when no flag names a target.
  const targetUrl =
    flags.targetUrl ??
    (flags.targetDatabase || flags.inPlace ? undefined : ctx.settings.targetDatabaseUrl);
  const choices = await restoreChoices(flags);
  const engine = await ctx.engine();
  const tables = [
    ...tableList(flags.tables),
    // A filter file's `include table` lines are -t, as pg_restore --filter reads them.
    ...(choices.filter ? await filterFileTables(choices.filter) : []),
  ];
  // The first line says where the restore writes, before it writes anything.
  engine.events.on('restore:planned', (p) => ctx.io.note(describeTargets(p.id, p.targets)));
  // Each section's flags go to its own source, under the source's id.
  const postgres: PostgresRestoreOptions = {
    ...(tables?.length ? { tables } : {}),
    ...(flags.targetDatabase ? { targetDatabase: flags.targetDatabase } : {}),
    ...(targetUrl ? { targetUrl } : {}),
    ...(flags.inPlace ? { inPlace: true } : {}),
    ...(flags.clean ? { clean: true } : {}),
    ...(flags.asSuffix ? { asSuffix: flags.asSuffix } : {}),
    ...choices,
    ...(flags.analyze === false ? { noAnalyze: true } : {}),
    ...(flags.allowNewerArchive ? { allowNewerArchive: true } : {}),
  };
  const configFiles: ConfigFilesRestoreOptions = {
    ...(flags.configDir ? { targetDir: flags.configDir } : {}),
    ...(flags.overwrite ? { overwrite: true } : {}),
  };
  const result = await engine.restore(ref, {
    signal: ctx.signal,
    ...(flags.only ? { only: flags.only } : {}),
    postgres,
    'config-files': configFiles,
    confirm: flags.yes ? true : (targets) => askOnTerminal(ctx, targets),
  });
  ctx.io.result({ ok: true, ...result }, () =>
    [
      `restored ${result.id} in ${formatDuration(result.durationMs)}`,
      ...result.sections.map((s) => `  ${s.section}/ (${s.source})${sectionNotes(s.summary)}`),
    ].join('\n'),
  );
  return 0;
}
