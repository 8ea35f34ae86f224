import { LifeboatError } from '@lifeboat/core';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../io.js';

export interface RestoreFlags {
  tables?: string;
  targetDatabase?: string;
  targetUrl?: string;
  clean?: boolean;
  asSuffix?: string;
  configDir?: string;
  only?: string;
  overwrite?: boolean;
}

export async function restoreCommand(
  ctx: CommandContext,
  ref: string,
  flags: RestoreFlags,
): Promise<number> {
  if (flags.only && flags.only !== 'database' && flags.only !== 'config') {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `--only must be "database" or "config", not "${flags.only}"`,
    );
  }
  if (flags.targetDatabase && flags.targetUrl) {
    throw new LifeboatError('CONFIG_INVALID', 'Give --target-database or --target-url, not both');
  }
  const engine = await ctx.engine();
  const tables = flags.tables
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const result = await engine.restore(ref, {
    signal: ctx.signal,
    ...(flags.only ? { only: flags.only } : {}),
    ...(tables?.length ? { tables } : {}),
    ...(flags.targetDatabase ? { targetDatabase: flags.targetDatabase } : {}),
    ...(flags.targetUrl ? { targetUrl: flags.targetUrl } : {}),
    ...(flags.clean ? { clean: true } : {}),
    ...(flags.asSuffix ? { asSuffix: flags.asSuffix } : {}),
    ...(flags.configDir ? { targetDir: flags.configDir } : {}),
    ...(flags.overwrite ? { overwrite: true } : {}),
  });
  ctx.io.result({ ok: true, ...result }, () =>
    [
      `restored ${result.id} in ${formatDuration(result.durationMs)}`,
      ...result.sections.map((s) => `  ${s.section}/ (${s.source})`),
    ].join('\n'),
  );
  return 0;
}
