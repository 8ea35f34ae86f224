import { LifeboatError, redact, redactDeep, toLifeboatError } from '@lifeboat/core';

export interface IO {
  json: boolean;
  /** Standard error is a terminal: progress may redraw a line. */
  tty: boolean;
  /** Prints the command's one result: JSON on stdout, or the human text. */
  result(doc: unknown, human: () => string): void;
  /** A line for people, on standard error. */
  note(line: string): void;
  error(error: unknown): void;
}

export function createIO(options: {
  json: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
}): IO {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const tty = Boolean((stderr as NodeJS.WriteStream).isTTY) && !process.env.CI;
  return {
    json: options.json,
    tty,
    result(doc, human) {
      if (options.json) stdout.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
      else {
        const text = human();
        if (text) stdout.write(`${redact(text)}\n`);
      }
    },
    note(line) {
      stderr.write(`${redact(line)}\n`);
    },
    error(error) {
      const e = toLifeboatError(error);
      const summary = {
        code: e.code,
        message: redact(e.message),
        hint: e.hint,
        retryable: e.retryable,
      };
      if (options.json) stdout.write(`${JSON.stringify({ ok: false, error: summary }, null, 2)}\n`);
      const cause =
        e.cause instanceof Error && !(e.cause instanceof LifeboatError)
          ? ` (${redact(e.cause.message)})`
          : '';
      stderr.write(
        `error ${e.code}: ${summary.message}${summary.message.includes(cause.slice(2, -1)) ? '' : cause}\n  → ${e.hint}\n`,
      );
    },
  };
}

export const formatBytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
};

/** A plain text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r, n) => {
      const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
      return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
