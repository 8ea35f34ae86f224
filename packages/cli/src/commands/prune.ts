import type { CommandContext } from '../context.js';
import { table } from '../io.js';

export async function pruneCommand(
  ctx: CommandContext,
  options: { dryRun?: boolean },
): Promise<number> {
  const engine = await ctx.engine();
  const result = await engine.prune({ dryRun: Boolean(options.dryRun), signal: ctx.signal });
  ctx.io.result(result, () =>
    [
      result.remove.length === 0
        ? 'nothing to delete'
        : table(
            [result.dryRun ? 'WOULD DELETE' : 'DELETED', 'WHY'],
            result.remove.map((r) => [r.id, r.reason]),
          ),
      '',
      table(
        ['KEPT', 'BECAUSE'],
        result.keep.map((k) => [k.id, k.reasons.join('; ')]),
      ),
      ...(result.untrusted.length > 0
        ? [
            '',
            table(
              ['LEFT ALONE (NOT COUNTED)', 'WHY'],
              result.untrusted.map((u) => [u.file, u.code]),
            ),
          ]
        : []),
      ...(result.historyDeleted > 0
        ? ['', `forgot ${result.historyDeleted} run record(s) older than every kept archive`]
        : []),
    ].join('\n'),
  );
  return 0;
}
