import type { CommandContext } from '../context.js';
import { formatBytes, table } from '../io.js';

export async function listCommand(
  ctx: CommandContext,
  id?: string,
  flags: { entries?: boolean } = {},
): Promise<number> {
  const engine = await ctx.engine();
  if (flags.entries || id) {
    // From the index beside the archive: the archive itself is not read.
    const listed = await engine.entries(id ?? 'latest');
    ctx.io.result(listed, () =>
      [
        table(
          ['ENTRY', 'SIZE', 'STORED', 'TABLE', 'ROWS'],
          listed.entries.map((e) => [
            e.type === 'file' ? e.path : `${e.path} (${e.type})`,
            formatBytes(e.size),
            e.storedBytes === undefined ? '' : formatBytes(e.storedBytes),
            e.table ?? '',
            e.rows === undefined ? '' : String(e.rows),
          ]),
        ),
        // No entry of their own: said, so an empty table after a restore is no surprise.
        ...(listed.rowsLeftOut?.length
          ? [`rows left out at backup (exclude table_data): ${listed.rowsLeftOut.join(', ')}`]
          : []),
      ].join('\n'),
    );
    return 0;
  }
  const archives = await engine.list();
  // A name in the future is a clock jump or another tool's file: said on standard error too.
  for (const a of archives)
    if (a.untrusted?.code === 'ARCHIVE_IN_FUTURE')
      ctx.io.warn(a.untrusted.code, a.untrusted.message);
  ctx.io.result(archives, () =>
    archives.length === 0
      ? `no archives in ${engine.context.storage.describe()}`
      : table(
          ['ID', 'CREATED (UTC)', 'SIZE', 'ENCRYPTED', 'COUNTED'],
          archives.map((a) => [
            a.id,
            a.createdAt.replace('T', ' ').slice(0, 19),
            formatBytes(a.bytes),
            a.encrypted ? 'yes' : 'no',
            a.untrusted
              ? ctx.io.out.yellow(
                  a.untrusted.code === 'ARCHIVE_IN_FUTURE'
                    ? 'no: named in the future'
                    : 'no: no Lifeboat index',
                )
              : 'yes',
          ]),
        ),
  );
  return 0;
}
