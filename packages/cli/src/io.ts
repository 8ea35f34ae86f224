import { LifeboatError, redact, redactDeep, toLifeboatError } from '@lifeboat/core';
import { type Paint, paint } from './colour.js';

export interface IO {
  json: boolean;
  /** Standard error is a terminal: progress may redraw a line. */
  tty: boolean;
  /** `--quiet`: nothing is printed on success (the JSON document of `--json` still is). */
  quiet: boolean;
  /** Colours for standard output (`out`) and standard error (`err`); no-ops on pipes. */
  out: Paint;
  err: Paint;
  /** Prints the command's one result: JSON on stdout, or the human text. */
  result(doc: unknown, human: () => string): void;
  /** A line for people, on standard error (not with --quiet). */
  note(line: string): void;
  /** A warning line for people, on standard error (not with --quiet). */
  warn(code: string, message: string): void;
  /** A failure, on standard error (always) and as the JSON document with --json. */
  error(error: unknown): void;
}

export function createIO(options: {
  json: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}): IO {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const tty = Boolean((stderr as NodeJS.WriteStream).isTTY) && !env.CI;
  const quiet = Boolean(options.quiet);
  const err = paint(stderr, env);
  const out = paint(stdout, env);
  return {
    json: options.json,
    tty,
    quiet,
    out,
    err,
    result(doc, human) {
      if (options.json) stdout.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
      else if (!quiet) {
        const text = human();
        if (text) stdout.write(`${redact(text)}\n`);
      }
    },
    note(line) {
      if (!quiet) stderr.write(`${redact(line)}\n`);
    },
    warn(code, message) {
      if (!quiet) stderr.write(`${err.yellow(`warning ${code}:`)} ${redact(message)}\n`);
    },
    error(error) {
      const e = toLifeboatError(error);
      const summary = {
        code: e.code,
        message: redact(e.message),
        hint: e.hint,
        retryable: e.retryable,
      };
      // A failed restore still says what it had written (`details.written`).
      const written = e.details?.written;
      if (options.json) {
        const doc = { ok: false, error: summary, ...(written ? { written } : {}) };
        stdout.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
      }
      // A validation error's own message is raw JSON: the summary already says it in words.
      const cause =
        e.cause instanceof Error &&
        !(e.cause instanceof LifeboatError) &&
        e.cause.name !== 'ZodError'
          ? ` (${redact(e.cause.message)})`
          : '';
      stderr.write(
        `${err.red(`error ${e.code}:`)} ${summary.message}${summary.message.includes(cause.slice(2, -1)) ? '' : cause}\n  → ${e.hint}\n`,
      );
      if (Array.isArray(written)) {
        const list = written.map((w: { section?: string }) => `${w.section}/`).join(', ');
        stderr.write(`  written before it failed: ${list || 'nothing'}\n`);
      }
    },
  };
}

/**
 * A count as `toLocaleString('en')` writes it (1,234,567), without ICU: its first call loads the
 * locale data, 20 ms of a command's start (measured on Node 20).
 */
export const formatCount = (n: number): string => {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en');
  const digits = String(Math.abs(n));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
};

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

const ANSI = /\x1b\[[0-9;]*m/g;
/** The width a cell takes on screen: colour codes take none. */
const width = (text: string) => text.replace(ANSI, '').length;

/** A plain text table (cells may be coloured). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells
    .map((r, n) => {
      const line = r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
        .join('  ');
      return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
