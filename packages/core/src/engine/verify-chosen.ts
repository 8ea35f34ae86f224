import { type ArchiveCheck, entryMismatch } from '../archive/verify.js';
import type { EntryRecord, VerifyProblem } from '../contracts.js';
import { LifeboatError, toLifeboatError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import type { ArchiveInfo } from './archives.js';
import type { EngineContext } from './context.js';
import { planPartialRead, type Selection, wantedEntries } from './partial-read.js';

/** What a verify of chosen entries (`tables`, `only`) checked, and how it read the archive. */
export interface ChosenCheck {
  manifest?: Manifest;
  problems: VerifyProblem[];
  /**
   * `ranges`: only the members holding the chosen entries were read (the manifest trusted by the
   * index's hash of it); `full`: the archive was read whole and every entry checked.
   */
  method: 'ranges' | 'full';
  /** The chosen entries' archive paths. */
  entries: string[];
  /** Their bytes. */
  bytes: number;
  /** Stored bytes read from the storage. */
  storedBytesRead: number;
}

/** Errors about what was asked (a pattern matching nothing), not about the archive: thrown. */
const ASKED_WRONG = new Set(['TABLE_NOT_FOUND', 'CONFIG_INVALID', 'NOT_FOUND', 'ABORTED']);

const problemOf = (error: unknown): VerifyProblem => {
  const e = toLifeboatError(error, 'ARCHIVE_CORRUPT');
  const path = e.details?.path;
  return { code: e.code, message: e.message, ...(typeof path === 'string' ? { path } : {}) };
};

/** How an entry read differs from its manifest record, if it does. */
function mismatch(
  path: string,
  got: { type: string; size: number; sha256: string; linkname?: string | undefined },
  want: EntryRecord | undefined,
): VerifyProblem | undefined {
  if (!want) return { code: 'ENTRY_UNEXPECTED', message: `"${path}" is not in the manifest`, path };
  return entryMismatch(path, got, want);
}

/**
 * Checks the chosen entries of an archive against their size and sha256 in its manifest,
 * reading only the gzip members that hold them when the index allows (the manifest is then
 * trusted only when the archive's own manifest.json hashes to the index's sha256, as a partial
 * restore does). Otherwise it reads the archive whole (`readWhole`, every entry checked). A
 * selection matching nothing throws (TABLE_NOT_FOUND, NOT_FOUND); a bad archive is a problem.
 */
export async function checkChosen(
  ctx: EngineContext,
  archive: ArchiveInfo,
  selection: Selection,
  readWhole: () => Promise<ArchiveCheck>,
  signal?: AbortSignal,
): Promise<ChosenCheck> {
  const chosen = { ...selection, unsourced: 'all' as const };
  let partial: Awaited<ReturnType<typeof planPartialRead>>;
  try {
    partial = await planPartialRead(ctx, archive, chosen, signal);
  } catch (error) {
    const e = toLifeboatError(error);
    if (ASKED_WRONG.has(e.code)) throw error;
    // The index's manifest is not the archive's own: nothing it says is trusted.
    const read = e.details?.storedBytesRead;
    return {
      problems: [problemOf(error)],
      method: 'ranges',
      entries: [],
      bytes: 0,
      storedBytesRead: typeof read === 'number' ? read : 0,
    };
  }
  if (!partial) {
    const check = await readWhole();
    if (!check.manifest)
      return { ...check, method: 'full', entries: [], storedBytesRead: archive.bytes };
    const manifest = check.manifest;
    if (selection.only && !manifest.sources.some((s) => s.section === selection.only)) {
      throw new LifeboatError(
        'NOT_FOUND',
        `Archive ${archive.id} has no "${selection.only}" section`,
        {
          hint: `It holds: ${manifest.sources.map((s) => s.section).join(', ') || 'nothing'}.`,
        },
      );
    }
    const wanted = wantedEntries(ctx, manifest, chosen);
    const sizes = new Map(manifest.entries.map((e) => [e.path, e.size]));
    return {
      manifest,
      problems: check.problems,
      method: 'full',
      entries: [...wanted],
      bytes: [...wanted].reduce((n, path) => n + (sizes.get(path) ?? 0), 0),
      storedBytesRead: archive.bytes,
    };
  }
  const expected = new Map(partial.manifest.entries.map((e) => [e.path, e]));
  const problems: VerifyProblem[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  try {
    for await (const entry of partial.entries) {
      let size = 0;
      for await (const chunk of entry.stream as AsyncIterable<Buffer>) size += chunk.length;
      const sha256 = await entry.digest;
      seen.add(entry.path);
      bytes += size;
      ctx.events.emit('verify:progress', { id: archive.id, path: entry.path, bytes: size });
      const wrong = mismatch(
        entry.path,
        { type: entry.type, size, sha256, linkname: entry.linkname },
        expected.get(entry.path),
      );
      if (wrong) problems.push(wrong);
    }
    // A chosen entry the section's summary names but the manifest does not hold.
    for (const path of partial.wanted) {
      if (!seen.has(path)) {
        problems.push({
          code: 'ENTRY_MISSING',
          message: `"${path}" is chosen but not in the archive`,
          path,
        });
      }
    }
  } catch (error) {
    if (toLifeboatError(error).code === 'ABORTED') throw error;
    problems.push(problemOf(error));
  }
  return {
    manifest: partial.manifest,
    problems,
    method: 'ranges',
    entries: [...partial.wanted],
    bytes,
    storedBytesRead: partial.storedBytesRead(),
  };
}
