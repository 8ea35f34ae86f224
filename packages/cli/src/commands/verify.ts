import type { VerifyResult } from '@lifeboat/core';
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration } from '../io.js';
import { checkedOnly, tableList } from './selection.js';

export interface VerifyFlags {
  deep?: boolean;
  allowNewerArchive?: boolean;
  /** Only these tables' entries (restore's patterns). */
  tables?: string;
  /** Only this section's entries. */
  only?: string;
}

/** What a verify of chosen entries read and checked: never to be taken for the whole archive. */
function chosenNote(result: VerifyResult): string {
  const c = result.chosen;
  if (!c) return '';
  const shown = c.entries.slice(0, 3).join(', ') + (c.entries.length > 3 ? ', …' : '');
  const read =
    c.method === 'ranges'
      ? `read ${formatBytes(c.storedBytesRead)} of the archive's ${formatBytes(c.storedBytes)} (only the members holding them)`
      : `read the whole archive, ${formatBytes(c.storedBytes)} (no usable index, or the chosen entries are most of it), every entry checked`;
  return `\n  only the chosen entries were verified, not the whole archive: ${c.entries.length} (${shown}); ${read}`;
}

export async function verifyCommand(
  ctx: CommandContext,
  ref: string,
  options: VerifyFlags,
): Promise<number> {
  const only = checkedOnly(options.only);
  const tables = tableList(options.tables);
  const engine = await ctx.engine();
  // The deep check's scratch restore and the table choice are the postgres source's options.
  const postgres = {
    ...(options.allowNewerArchive ? { allowNewerArchive: true } : {}),
    ...(tables.length > 0 ? { tables } : {}),
  };
  const result = await engine.verify(ref, {
    deep: Boolean(options.deep),
    ...(only ? { only } : {}),
    ...(Object.keys(postgres).length > 0 ? { postgres } : {}),
    signal: ctx.signal,
  });
  const json = { ...result, verified: result.chosen ? 'chosen entries only' : 'whole archive' };
  ctx.io.result(json, () =>
    result.ok
      ? `${ctx.io.out.green('OK')} ${result.file}: ${result.entries} entries, ${formatBytes(result.bytes)} checked${result.deep ? ', restored and compared' : ''} in ${formatDuration(result.durationMs)}${chosenNote(result)}${result.scope ? `\n  the backup took part of what is configured, as told: ${result.scope.join('; ')}` : ''}`
      : [
          `${ctx.io.out.red('PROBLEMS')} in ${result.file}:`,
          ...result.problems.map((p) => `  ${p.code}: ${p.message}`),
          ...(result.chosen ? [chosenNote(result).trimStart()] : []),
        ].join('\n'),
  );
  return result.ok ? 0 : 1;
}
