import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration } from '../io.js';

export async function verifyCommand(
  ctx: CommandContext,
  ref: string,
  options: { deep?: boolean; allowNewerArchive?: boolean },
): Promise<number> {
  const engine = await ctx.engine();
  const result = await engine.verify(ref, {
    deep: Boolean(options.deep),
    // The deep check's scratch restore is the postgres source's: its option goes under its id.
    ...(options.allowNewerArchive ? { postgres: { allowNewerArchive: true } } : {}),
    signal: ctx.signal,
  });
  ctx.io.result(result, () =>
    result.ok
      ? `${ctx.io.out.green('OK')} ${result.file}: ${result.entries} entries, ${formatBytes(result.bytes)} checked${result.deep ? ', restored and compared' : ''} in ${formatDuration(result.durationMs)}${result.scope ? `\n  the backup took part of what is configured, as told: ${result.scope.join('; ')}` : ''}`
      : [
          `${ctx.io.out.red('PROBLEMS')} in ${result.file}:`,
          ...result.problems.map((p) => `  ${p.code}: ${p.message}`),
        ].join('\n'),
  );
  return result.ok ? 0 : 1;
}
