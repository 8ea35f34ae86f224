import { Readable } from 'node:stream';
import { type ReadEntry, readArchive } from '../archive/reader.js';
import type {
  AnySource,
  ArchiveEntry,
  RestoreContext,
  SourceRestoreOptions,
} from '../contracts.js';
import { LifeboatError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import type { EngineContext } from './context.js';

/** The options a caller gave a section's source (under the source's id), `{}` when none. */
export const optionsFor = (options: SourceRestoreOptions, source: { id: string }): object =>
  (options as Record<string, object | undefined>)[source.id] ?? {};

/**
 * What each section's source gets to restore or deep-verify it, in one run: its entries, its
 * summary from the manifest, its own options, and its progress, items done and warnings, which go
 * out as `restore:progress`, `source:item` and `warning` events under its id.
 */
export function sectionContexts(
  ctx: EngineContext,
  manifest: Manifest,
  options: SourceRestoreOptions,
  signal: AbortSignal | undefined,
) {
  return (
    source: AnySource,
    summary: Record<string, unknown>,
    entries: AsyncIterable<ArchiveEntry>,
  ): RestoreContext<object> => ({
    signal: signal ?? new AbortController().signal,
    summary,
    manifest,
    entries,
    options: optionsFor(options, source),
    progress: (p) => ctx.events.emit('restore:progress', { source: source.id, ...p }),
    item: (done) =>
      ctx.events.emit('source:item', { source: source.id, phase: 'restore', ...done }),
    warn: (code, message, details) =>
      ctx.events.emit('warning', { code, message, ...(details ? { details } : {}) }),
  });
}

export type SectionHandler = (entries: AsyncIterable<ArchiveEntry>) => Promise<void>;

/**
 * Reads an archive once and hands each section's entries to its handler, in archive order.
 * Every entry is checked against the manifest after it has been read: a mismatch throws inside
 * the handler's loop, so the handler can undo what it did. Unhandled sections are skipped.
 */
export async function dispatchSections(
  /** The archive's bytes, or entries already read (a partial read). */
  input: Readable | AsyncIterable<ReadEntry>,
  manifest: Manifest,
  handlers: Map<string, SectionHandler>,
  signal?: AbortSignal,
  options: {
    /** The raw archive bytes were proven to be the ones written: skip hashing every entry. */
    trusted?: boolean;
    /** Gzip members inflated at once (the engine's compressionConcurrency). */
    concurrency?: number;
  } = {},
): Promise<void> {
  const expected = new Map(manifest.entries.map((e) => [e.path, e]));
  const trusted = options.trusted === true;
  const entries =
    input instanceof Readable
      ? readArchive(input, {
          ...(signal ? { signal } : {}),
          ...(trusted ? { hashEntries: false } : {}),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        })
      : input;
  const iterator = entries[Symbol.asyncIterator]();
  let peeked: ReadEntry | undefined;
  let exhausted = false;
  const next = async (): Promise<ReadEntry | undefined> => {
    if (peeked) {
      const p = peeked;
      peeked = undefined;
      return p;
    }
    if (exhausted) return undefined;
    const r = await iterator.next();
    if (r.done) {
      exhausted = true;
      return undefined;
    }
    return r.value;
  };
  const checkDigest = async (entry: ReadEntry) => {
    const want = expected.get(entry.path);
    if (!want) {
      if (entry.path.includes('/')) {
        throw new LifeboatError(
          'ENTRY_UNEXPECTED',
          `"${entry.path}" is not listed in the manifest`,
        );
      }
      return;
    }
    if (want.type === 'file' && !trusted) {
      const digest = await entry.digest;
      if (digest !== want.sha256) {
        throw new LifeboatError(
          'ENTRY_MISMATCH',
          `"${entry.path}" does not match its sha256 in the manifest`,
        );
      }
    }
  };
  try {
    for (;;) {
      const entry = await next();
      if (!entry) break;
      const section = entry.path.split('/')[0]!;
      const handler = entry.path.includes('/') ? handlers.get(section) : undefined;
      if (!handler) {
        entry.stream.resume();
        await checkDigest(entry);
        continue;
      }
      peeked = entry;
      async function* sectionEntries(): AsyncGenerator<ArchiveEntry> {
        for (;;) {
          const e = await next();
          if (!e) return;
          if (!e.path.includes('/') || e.path.split('/')[0] !== section) {
            peeked = e;
            return;
          }
          const want = expected.get(e.path);
          yield {
            path: e.path,
            relativePath: e.path.slice(section.length + 1),
            type: e.type,
            size: e.size,
            mode: e.mode,
            mtime: e.mtime.toISOString(),
            ...(want?.sha256 ? { sha256: want.sha256 } : {}),
            ...(e.linkname ? { linkname: e.linkname } : {}),
            stream: e.stream,
          };
          if (!e.stream.readableEnded) e.stream.resume();
          await checkDigest(e);
        }
      }
      await handler(sectionEntries());
      // Skip what the handler did not read of its section.
      for (;;) {
        const e = await next();
        if (!e) break;
        if (e.path.split('/')[0] !== section || !e.path.includes('/')) {
          peeked = e;
          break;
        }
        e.stream.resume();
        await checkDigest(e);
      }
    }
  } finally {
    await iterator.return?.(undefined);
  }
}
