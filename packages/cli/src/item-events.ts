import type { SourceItem } from '@lifeboat/core';

/**
 * The engine reports every source's items as one generic event, `source:item`. The CLI's log
 * lines and progress keep the event names and fields they had before (`table:done`,
 * `restore:table`, `restore:file`: LOG_FILE readers and CLI.md rely on them); this is that
 * mapping. Items of other kinds keep the generic form.
 */
export function legacyItemEvent(
  item: SourceItem,
): { name: string; payload: Record<string, unknown> } | undefined {
  if (item.kind === 'table' && item.phase === 'backup')
    return {
      name: 'table:done',
      payload: {
        table: item.name,
        rows: item.rows ?? 0,
        bytes: item.bytes ?? 0,
        durationMs: item.durationMs ?? 0,
      },
    };
  if (item.kind === 'table' && item.phase === 'restore')
    return {
      name: 'restore:table',
      payload: { table: item.name, rows: item.rows ?? 0, durationMs: item.durationMs ?? 0 },
    };
  if (item.kind === 'file' && item.phase === 'restore')
    return {
      name: 'restore:file',
      payload: {
        path: item.name,
        target: item.target ?? '',
        ...(item.backup ? { backup: item.backup } : {}),
      },
    };
  return undefined;
}
