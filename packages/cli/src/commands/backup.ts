import type { CommandContext } from '../context.js';
import { formatBytes, formatCount, formatDuration } from '../io.js';

export async function backupCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const result = await engine.backup({ signal: ctx.signal });
  ctx.io.result(result, () =>
    [
      `stored ${result.file} (${formatBytes(result.bytes)}) in ${formatDuration(result.durationMs)}`,
      `  where:   ${result.storage}`,
      `  sha256:  ${result.sha256}`,
      ...(result.tables.length
        ? [
            `  tables:  ${result.tables.length}, ${formatCount(result.tables.reduce((n, t) => n + t.rows, 0))} rows`,
          ]
        : []),
      ...(result.files ? [`  files:   ${result.files}`] : []),
      ...(result.encrypted ? ['  encrypted with age'] : []),
      ...result.warnings.map((w) => `  ${ctx.io.out.yellow(`warning ${w.code}:`)} ${w.message}`),
      ...(result.pruned.length ? [`  pruned:  ${result.pruned.join(', ')}`] : []),
      ...result.notifications.map(
        (n) =>
          `  notify ${n.notifier}: ${n.ok ? 'sent' : `${ctx.io.out.red('FAILED')} ${n.error ?? ''}`}`,
      ),
    ].join('\n'),
  );
  return 0;
}
