import type { LifeboatEmitter } from '@lifeboat/core';
import { formatBytes, formatDuration, type IO } from './io.js';

/**
 * Renders core's progress events: on a terminal one redrawn status line (item, rows, bytes,
 * throughput, ETA); on a pipe plain lines, one per finished table or file, no control characters.
 */
export function attachProgress(
  events: LifeboatEmitter,
  io: IO,
  stderr: NodeJS.WriteStream = process.stderr,
) {
  const started = performance.now();
  let bytes = 0;
  const perSource = new Map<string, number>();
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
    if (!io.tty) return;
    const now = performance.now();
    if (now - lastDraw < 100) return;
    lastDraw = now;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? bytes / secs : 0;
    const eta =
      total && rate > 0 && total > bytes
        ? ` ETA ${formatDuration(((total - bytes) / rate) * 1000)}`
        : '';
    const pct = total ? ` ${Math.min(100, Math.floor((bytes / total) * 100))}%` : '';
    // Numbers first: a narrow terminal cuts the item name, never the throughput.
    const text = `${formatBytes(bytes)}${pct} ${formatBytes(rate)}/s${eta}${rows !== undefined ? ` ${rows.toLocaleString('en')} rows` : ''} ${item ?? ''}`;
    stderr.write(`\r\x1b[K${text.slice(0, (stderr.columns ?? 100) - 1)}`);
    drawn = true;
  };

  events.on('backup:started', (e) => line(`backup ${e.file} → ${e.storage}`));
  events.on('source:progress', (p) => {
    const key = `${p.source}:${p.item ?? ''}`;
    const before = perSource.get(key) ?? 0;
    // Sources report cumulative bytes per item.
    bytes += Math.max(0, p.bytes - before);
    perSource.set(key, Math.max(before, p.bytes));
    if (p.totalBytes) total = p.totalBytes;
    draw(p.item, p.rows);
  });
  events.on('table:done', (t) =>
    line(
      `  table ${t.table}: ${t.rows.toLocaleString('en')} rows, ${formatBytes(t.bytes)} in ${formatDuration(t.durationMs)}`,
    ),
  );
  events.on('entry:done', (e) => {
    if (e.path.startsWith('config/') && e.type === 'file')
      line(`  file ${e.path} (${formatBytes(e.size)})`);
  });
  events.on('verify:started', (e) =>
    line(`verify ${e.id}${e.deep ? ' (deep: restore into a scratch database)' : ''}`),
  );
  events.on('verify:progress', (p) => {
    bytes += p.bytes;
    draw(p.path);
  });
  events.on('restore:checked', (e) =>
    line(
      `checked ${e.id} in ${formatDuration(e.durationMs)} (${e.method === 'index' ? 'stored sha256 matches its index' : 'every entry read and hashed'})`,
    ),
  );
  events.on('restore:started', (e) => line(`restore ${e.id}: ${e.sections.join(', ')}`));
  events.on('restore:progress', (p) => {
    bytes = Math.max(bytes, p.bytes);
    if (p.totalBytes) total = p.totalBytes;
    draw(p.item, p.rows);
  });
  events.on('restore:table', (t) =>
    line(
      `  restored ${t.table}: ${t.rows.toLocaleString('en')} rows in ${formatDuration(t.durationMs)}`,
    ),
  );
  events.on('restore:file', (f) =>
    line(`  restored ${f.path} → ${f.target}${f.backup ? ` (old file kept as ${f.backup})` : ''}`),
  );
  events.on('warning', (w) => line(`warning ${w.code}: ${w.message}`));
  events.on('notify:failed', (n) =>
    line(`warning: notifier ${n.notifier} failed: ${n.error.message}`),
  );
  events.on('prune:deleted', (p) => line(`  pruned ${p.id}`));
  return { done: clear };
}
