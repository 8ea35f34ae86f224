import type { Readable } from 'node:stream';
import type { ByteRange, EntryRecord } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import type { EntryLocation } from './entry-locator.js';
import { type ReadEntry, readArchive } from './reader.js';

type Located = EntryRecord & { location: EntryLocation };

/** Entries read with one ranged get: whole gzip members, inflated from the first one on. */
export interface Run {
  range: ByteRange;
  /** Inflated bytes before the run's first entry, and the tar bytes of its entries. */
  skip: number;
  bytes: number;
  /** Every entry in the run in archive order: the wanted ones and any small ones between. */
  entries: Located[];
}

const located = (e: EntryRecord): e is Located => e.location !== undefined;

/**
 * Groups the wanted entries (`all` in archive order, as the manifest lists them) into runs: a
 * wanted entry starting in the member where the previous run ends (or the next one) joins it.
 * Undefined when an entry has no location (an archive written before entries were located).
 */
export function planRuns(all: readonly EntryRecord[], wanted: Set<string>): Run[] | undefined {
  const runs: Run[] = [];
  let run: Run | undefined;
  let between: Located[] = [];
  for (const entry of all) {
    if (!located(entry)) return undefined;
    const at = entry.location;
    if (!wanted.has(entry.path)) {
      if (run) between.push(entry);
      continue;
    }
    if (run && at.member <= run.range.end) {
      run.entries.push(...between, entry);
      run.range.end = Math.max(run.range.end, at.end);
      const first = run.entries[0]!.location;
      run.bytes = at.offset + at.tarBytes - first.offset;
    } else {
      run = {
        range: { start: at.member, end: at.end },
        skip: at.inner,
        bytes: at.tarBytes,
        entries: [entry],
      };
      runs.push(run);
    }
    between = [];
  }
  return runs;
}

export const runBytes = (runs: readonly Run[]) =>
  runs.reduce((n, r) => n + (r.range.end - r.range.start), 0);

/**
 * Reads runs through `get` (a ranged get of the archive) and yields the wanted entries, each
 * hashed as it is read (the caller compares with the manifest). The archive must hold exactly
 * the entries the index says at each place: anything else is ARCHIVE_CORRUPT or ENTRY_MISSING.
 */
export async function* readRuns(
  get: (range: ByteRange) => Promise<Readable>,
  runs: readonly Run[],
  wanted: Set<string>,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<ReadEntry> {
  for (const run of runs) {
    const input = await get(run.range);
    let i = 0;
    for await (const entry of readArchive(input, {
      slice: { skip: run.skip, bytes: run.bytes },
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      const expected = run.entries[i++];
      if (entry.path !== expected?.path) {
        throw new LifeboatError(
          'ARCHIVE_CORRUPT',
          `The archive holds "${entry.path}" where its index places ${expected ? `"${expected.path}"` : 'nothing'}`,
          { details: { path: entry.path } },
        );
      }
      if (wanted.has(entry.path)) yield entry;
      else entry.stream.resume();
      await entry.digest.catch(() => {});
    }
    if (i < run.entries.length) {
      const path = run.entries[i]!.path;
      throw new LifeboatError('ENTRY_MISSING', `"${path}" is not where the index places it`, {
        details: { path },
      });
    }
  }
}
