import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type LifeboatEmitter,
  type LifeboatEventName,
  redact,
  redactDeep,
  type SourceItem,
} from '@lifeboat/core';
import pino from 'pino';
import { legacyItemEvent } from './item-events.js';

export interface Logger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
  /** Logs every engine event as one structured line. */
  attach(events: LifeboatEmitter): void;
  close(): Promise<void>;
}

const day = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');

/**
 * Rotates LOG_FILE daily: a file last written on an earlier day becomes `LOG_FILE.YYYYMMDD`, and
 * rotated files older than `retentionDays` are removed (the old guide's log-rotation.sh).
 */
export function rotateLog(file: string, retentionDays: number, now = new Date()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file)) {
    const written = statSync(file).mtime;
    if (day(written) !== day(now)) {
      let target = `${file}.${day(written)}`;
      for (let n = 2; existsSync(target); n++) target = `${file}.${day(written)}.${n}`;
      renameSync(file, target);
    }
  }
  const base = basename(file);
  const cutoff = now.getTime() - retentionDays * 86400_000;
  for (const name of readdirSync(dirname(file))) {
    if (!name.startsWith(`${base}.`) || !/\.\d{8}(\.\d+)?$/.test(name)) continue;
    const path = join(dirname(file), name);
    if (statSync(path).mtime.getTime() < cutoff) unlinkSync(path);
  }
}

const LOGGED: LifeboatEventName[] = [
  'backup:started',
  'source:done',
  'source:item',
  'backup:succeeded',
  'backup:failed',
  'verify:started',
  'verify:succeeded',
  'verify:failed',
  'restore:checked',
  'restore:started',
  'restore:succeeded',
  'restore:failed',
  'prune:planned',
  'prune:deleted',
  'notify:sent',
  'notify:failed',
  'health:alert',
  'lock:waiting',
  'warning',
];

/**
 * Structured (JSON) log lines, to LOG_FILE and, with LOG_FORMAT=json, to standard error. Each line
 * is handed to the operating system as it happens (asynchronously, so thousands of tables cost no
 * synchronous write each): `tail -f` follows a running backup, and a killed process keeps its log.
 */
export function createLogger(options: {
  file?: string;
  retentionDays: number;
  /** Also write the JSON lines to standard error. */
  stderr: boolean;
}): Logger {
  const streams: pino.StreamEntry[] = [];
  const destinations: { stream: ReturnType<typeof pino.destination>; ready: Promise<void> }[] = [];
  const destination = (o: Parameters<typeof pino.destination>[0] & object) => {
    // minLength 0: written at once; lines that arrive while a write is in flight go together.
    const d = pino.destination({ minLength: 0, sync: false, ...o });
    const ready = new Promise<void>((resolve) => {
      d.once('ready', () => resolve());
      d.once('error', () => resolve());
    });
    destinations.push({ stream: d, ready });
    return d;
  };
  if (options.stderr) streams.push({ stream: destination({ dest: 2 }) });
  if (options.file) {
    rotateLog(options.file, options.retentionDays);
    streams.push({ stream: destination({ dest: options.file, mkdir: true, mode: 0o600 }) });
  }
  const base =
    streams.length > 0
      ? pino(
          {
            base: { pid: process.pid },
            timestamp: pino.stdTimeFunctions.isoTime,
            // Every line passes through the redactor: secrets never reach a log.
            hooks: {
              logMethod(args, method) {
                method.apply(
                  this,
                  args.map((a) =>
                    typeof a === 'string' ? redact(a) : redactDeep(a),
                  ) as Parameters<typeof method>,
                );
              },
            },
          },
          pino.multistream(streams),
        )
      : undefined;
  return {
    info: (obj, msg) => base?.info(obj, msg),
    warn: (obj, msg) => base?.warn(obj, msg),
    error: (obj, msg) => base?.error(obj, msg),
    attach(events) {
      if (!base) return;
      for (const name of LOGGED) {
        events.on(name, (raw: unknown) => {
          // Items keep the event names and fields the log had before `source:item` (CLI.md).
          const legacy = name === 'source:item' ? legacyItemEvent(raw as SourceItem) : undefined;
          const event = legacy?.name ?? name;
          const payload = legacy?.payload ?? raw;
          const level =
            name.endsWith(':failed') || name === 'health:alert'
              ? 'error'
              : name === 'warning'
                ? 'warn'
                : 'info';
          base[level]({ event, ...(payload as Record<string, unknown>) }, event);
        });
      }
    },
    async close() {
      for (const d of destinations) {
        await d.ready;
        // Not flushSync: it retries a failed write forever unless the error is EAGAIN, so a
        // reader that went away (`lifeboat backup 2>&1 | head`) would hang the command.
        await new Promise<void>((resolve) => {
          try {
            d.stream.flush(() => resolve());
          } catch {
            // Closed or failed: nothing more to write.
            resolve();
          }
        });
      }
    },
  };
}
