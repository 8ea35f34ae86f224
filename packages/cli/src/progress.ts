import type { LifeboatEmitter } from '@lifeboat/core';
import { formatBytes, formatCount, formatDuration, type IO } from './io.js';
import { legacyItemEvent } from './item-events.js';

/**
 * Renders core's progress events: on a terminal one redrawn status line (item, rows, bytes,
 * throughput, ETA); on a pipe plain lines, one per finished table or file, no control characters.
 */
const checkedHow = {
  ranges: 'manifest matches its index; only the entries needed are read, each hashed',
  index: 'stored sha256 matches its index',
  full: 'every entry read and hashed',
} as const;

export function attachProgress(
  events: LifeboatEmitter,
  io: IO,
  stderr: NodeJS.WriteStream = process.stderr,
) {
  let started = performance.now();
  // Sources report their cumulative bytes and their own (corrected) estimate of the whole.
  const doneBySource = new Map<string, number>();
  const totalBySource = new Map<string, number>();
  let bytes = 0;
  let total: number | undefined;
  // The first update draws at once (performance.now() counts from process start, not from here).
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;

  const clear = () => {
    if (drawn) {
      stderr.write('\r\x1b[K');
      drawn = false;
    }
  };
  const line = (text: string) => {
    clear();
    io.note(text);
  };
  const draw = (item: string | undefined, rows?: number) => {
    if (!io.tty || io.quiet) return;
    const now = performance.now();
    if (now - lastDraw < 100) return;
    lastDraw = now;
    stderr.write(
      `\r\x1b[K${progressLine({ bytes, total, rows, item, secs: (now - started) / 1000 }).slice(0, (stderr.columns ?? 100) - 1)}`,
    );
    drawn = true;
  };

  events.on('backup:started', (e) => {
    // `run` backs up again and again in one process: each backup counts from zero.
    started = performance.now();
    doneBySource.clear();
    totalBySource.clear();
    bytes = 0;
    total = undefined;
    line(`backup ${e.file} → ${e.storage}`);
  });
  events.on('source:progress', (p) => {
    doneBySource.set(p.source, Math.max(doneBySource.get(p.source) ?? 0, p.bytes));
    if (p.totalBytes) totalBySource.set(p.source, p.totalBytes);
    bytes = sum(doneBySource.values());
    // The whole is known only when every source that reported has an estimate.
    total = [...doneBySource.keys()].every((s) => totalBySource.has(s))
      ? sum(totalBySource.values())
      : undefined;
    draw(p.item, p.rows);
  });
  events.on('source:item', (item) => {
    const legacy = legacyItemEvent(item);
    if (legacy?.name === 'table:done') {
      const t = legacy.payload as {
        table: string;
        rows: number;
        bytes: number;
        durationMs: number;
      };
      line(
        `  table ${t.table}: ${formatCount(t.rows)} rows, ${formatBytes(t.bytes)} in ${formatDuration(t.durationMs)}`,
      );
    } else if (legacy?.name === 'restore:table') {
      const t = legacy.payload as { table: string; rows: number; durationMs: number };
      line(`  restored ${t.table}: ${formatCount(t.rows)} rows in ${formatDuration(t.durationMs)}`);
    } else if (legacy?.name === 'restore:file') {
      const f = legacy.payload as { path: string; target: string; backup?: string };
      line(
        `  restored ${f.path} → ${f.target}${f.backup ? ` (old file kept as ${f.backup})` : ''}`,
      );
    } else {
      line(`  ${item.phase === 'restore' ? 'restored ' : ''}${item.kind} ${item.name}`);
    }
  });
  events.on('entry:done', (e) => {
    if (e.path.startsWith('config/') && e.type === 'file')
      line(`  file ${e.path} (${formatBytes(e.size)})`);
  });
  events.on('verify:started', (e) =>
    line(
      `verify ${e.id}${e.deep ? ' (deep: restore into a scratch database)' : ''}${e.chosen ? ' (chosen entries only)' : ''}`,
    ),
  );
  events.on('verify:progress', (p) => {
    bytes += p.bytes;
    draw(p.path);
  });
  events.on('restore:checked', (e) =>
    line(`checked ${e.id} in ${formatDuration(e.durationMs)} (${checkedHow[e.method]})`),
  );
  events.on('restore:started', (e) => line(`restore ${e.id}: ${e.sections.join(', ')}`));
  events.on('restore:progress', (p) => {
    bytes = Math.max(bytes, p.bytes);
    if (p.totalBytes) total = p.totalBytes;
    draw(p.item, p.rows);
  });
  events.on('warning', (w) => {
    clear();
    io.warn(w.code, w.message);
  });
  events.on('notify:failed', (n) => {
    clear();
    io.warn('NOTIFY_FAILED', `notifier ${n.notifier} failed: ${n.error.message}`);
  });
  events.on('prune:deleted', (p) => line(`  pruned ${p.id}`));
  return { done: clear };
}

const sum = (values: Iterable<number>) => {
  let n = 0;
  for (const v of values) n += v;
  return n;
};

/**
 * The live status line: labelled numbers first (a narrow terminal cuts the item name, never the
 * throughput). The whole is an estimate until the end, so the share stops at 99% and the ETA
 * goes while the work outruns it.
 */
export function progressLine(p: {
  bytes: number;
  total: number | undefined;
  rows: number | undefined;
  item: string | undefined;
  secs: number;
}): string {
  const rate = p.secs > 0 ? p.bytes / p.secs : 0;
  const known = p.total !== undefined && p.total > 0;
  const pct = known ? Math.min(99, Math.floor((p.bytes / p.total!) * 100)) : undefined;
  const parts = [
    `copied ${formatBytes(p.bytes)}${known ? ` of ~${formatBytes(Math.max(p.total!, p.bytes))} (${pct}%)` : ''}`,
    `rate ${formatBytes(rate)}/s`,
    ...(known && rate > 0 && p.total! > p.bytes
      ? [`ETA ${formatDuration(Math.round(((p.total! - p.bytes) / rate) * 1000))}`]
      : []),
    ...(p.rows !== undefined ? [`rows ${formatCount(p.rows)}`] : []),
    ...(p.item ? [p.item] : []),
  ];
  return parts.join('  ');
}
