import type { CommandContext } from '../context.js';
import { formatBytes, table } from '../io.js';

export async function listCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const archives = await engine.list();
  ctx.io.result(archives, () =>
    archives.length === 0
      ? `no archives in ${engine.context.storage.describe()}`
      : table(
          ['ID', 'CREATED (UTC)', 'SIZE', 'ENCRYPTED'],
          archives.map((a) => [
            a.id,
            a.createdAt.replace('T', ' ').slice(0, 19),
            formatBytes(a.bytes),
            a.encrypted ? 'yes' : 'no',
          ]),
        ),
  );
  return 0;
}
