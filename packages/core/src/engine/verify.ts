import { checkArchive } from '../archive/verify.js';
import type { SourceRestoreOptions, VerifyProblem } from '../contracts.js';
import { type ErrorCode, isErrorCode, LifeboatError, toLifeboatError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { type ArchiveInfo, openArchive, resolveArchive } from './archives.js';
import { scopeOf } from './backup.js';
import type { EngineContext } from './context.js';
import { recordRun } from './history.js';
import { selectedSection } from './partial-read.js';
import { dispatchSections, sectionContexts } from './sections.js';
import { checkChosen } from './verify-chosen.js';

/**
 * A verify's options; with `deep`, each source's scratch restore gets its own under its id
 * (`{ deep: true, postgres: { allowNewerArchive: true } }`). Chosen entries only, as a partial
 * restore chooses them: `{ postgres: { tables: ['users'] } }` or `{ only: 'config' }`.
 */
export interface VerifyOptions extends SourceRestoreOptions {
  deep?: boolean;
  /** Check only this section's entries: `database` or `config`. */
  only?: string;
  signal?: AbortSignal;
}

/** A verify of chosen entries: what it checked and read. It is not a verify of the archive. */
export interface ChosenVerify {
  /**
   * `ranges`: only the gzip members holding the chosen entries were read; `full`: the archive
   * was read whole (no usable index) and every entry was checked.
   */
  method: 'ranges' | 'full';
  /** The chosen entries' archive paths, each checked against its size and sha256. */
  entries: string[];
  /** Stored bytes read, and the archive's. */
  storedBytesRead: number;
  storedBytes: number;
}

export interface VerifyResult {
  id: string;
  file: string;
  ok: boolean;
  deep: boolean;
  entries: number;
  bytes: number;
  durationMs: number;
  problems: VerifyProblem[];
  manifest?: Pick<Manifest, 'createdAt' | 'formatVersion' | 'tool'>;
  /** The rules that chose part of a source at backup (BackupResult.scope); absent: everything. */
  scope?: string[];
  /**
   * Present when only chosen entries were verified (`tables`, `only`): `entries` and `bytes`
   * count them. Such a run is not recorded in the run history (status, health and metrics count
   * only verifies of whole archives).
   */
  chosen?: ChosenVerify;
}

/** Reads the whole archive and checks it against its manifest. Throws nothing for a bad archive. */
export async function quickCheck(ctx: EngineContext, archive: ArchiveInfo, signal?: AbortSignal) {
  const stream = await openArchive(ctx, archive, signal);
  return checkArchive(stream, {
    ...(signal ? { signal } : {}),
    onEntry: (path, bytes) => ctx.events.emit('verify:progress', { id: archive.id, path, bytes }),
  });
}

export async function runVerify(
  ctx: EngineContext,
  ref: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const began = performance.now();
  const startedAt = ctx.now().toISOString();
  const deep = options.deep ?? false;
  const only = selectedSection(ctx, options);
  if (only !== undefined && deep) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      '--deep restores the whole archive into a scratch database: it cannot go with --tables or --only',
      { hint: 'verify chosen entries without --deep, or the whole archive with --deep' },
    );
  }
  const archive = await resolveArchive(ctx, ref, options.signal);
  ctx.events.emit('verify:started', { id: archive.id, deep, ...(only ? { chosen: true } : {}) });
  const whole = async (): Promise<Awaited<ReturnType<typeof quickCheck>>> => {
    try {
      return await quickCheck(ctx, archive, options.signal);
    } catch (error) {
      const e = toLifeboatError(error, 'ARCHIVE_CORRUPT');
      return { problems: [{ code: e.code, message: e.message }], entries: 0, bytes: 0 };
    }
  };
  let chosen: ChosenVerify | undefined;
  let check: Awaited<ReturnType<typeof quickCheck>>;
  if (only === undefined) check = await whole();
  else {
    const c = await checkChosen(ctx, archive, { only, options }, whole, options.signal);
    chosen = {
      method: c.method,
      entries: c.entries,
      storedBytesRead: c.storedBytesRead,
      storedBytes: archive.bytes,
    };
    check = {
      problems: c.problems,
      entries: c.entries.length,
      bytes: c.bytes,
      ...(c.manifest ? { manifest: c.manifest } : {}),
    };
  }
  const problems = [...check.problems];
  if (deep && problems.length === 0 && check.manifest) {
    problems.push(...(await deepCheck(ctx, archive, check.manifest, options, options.signal)));
  }
  const result: VerifyResult = {
    id: archive.id,
    file: archive.file,
    ok: problems.length === 0,
    deep,
    entries: check.entries,
    bytes: check.bytes,
    durationMs: Math.round(performance.now() - began),
    problems,
    ...(check.manifest ? scopeOf(reportsOf(ctx, check.manifest)) : {}),
    ...(check.manifest
      ? {
          manifest: {
            createdAt: check.manifest.createdAt,
            formatVersion: check.manifest.formatVersion,
            tool: check.manifest.tool,
          },
        }
      : {}),
    ...(chosen ? { chosen } : {}),
  };
  const marked = chosen ? { chosen: true } : {};
  if (result.ok)
    ctx.events.emit('verify:succeeded', {
      id: archive.id,
      deep,
      durationMs: result.durationMs,
      ...marked,
    });
  else ctx.events.emit('verify:failed', { id: archive.id, deep, problems, ...marked });
  // A verify of chosen entries says nothing of the rest: status, health and metrics must not
  // take it for a verify of the archive, so it is not recorded.
  if (chosen) return result;
  await recordRun(
    ctx.storage,
    {
      kind: 'verify',
      ok: result.ok,
      id: archive.id,
      file: archive.file,
      startedAt,
      durationMs: result.durationMs,
      deep,
      problems: problems.map((p) => ({ code: p.code, message: p.message })),
    },
    ctx.cipher,
  ).catch(() => {});
  return result;
}

async function deepCheck(
  ctx: EngineContext,
  archive: ArchiveInfo,
  manifest: Manifest,
  options: SourceRestoreOptions,
  signal?: AbortSignal,
): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const handlers = new Map<
    string,
    (entries: AsyncIterable<import('../contracts.js').ArchiveEntry>) => Promise<void>
  >();
  const contextOf = sectionContexts(ctx, manifest, options, signal);
  for (const section of manifest.sources) {
    const source = ctx.sources.find((s) => s.section === section.section && s.id === section.id);
    if (!source?.verifyDeep) continue;
    handlers.set(section.section, async (entries) => {
      await ctx.sourceReady(source, signal);
      problems.push(...(await source.verifyDeep!(contextOf(source, section.summary, entries))));
    });
  }
  if (handlers.size === 0) return problems;
  try {
    await dispatchSections(await openArchive(ctx, archive, signal), manifest, handlers, signal, {
      concurrency: ctx.config.compressionConcurrency,
    });
  } catch (error) {
    const e = toLifeboatError(error, 'VERIFY_FAILED');
    problems.push({ code: e.code, message: e.message });
  }
  return problems;
}

/** Throws the first problem of a check as its own error code (used before a restore). */
export function throwFirstProblem(problems: VerifyProblem[], id: string): void {
  const first = problems[0];
  if (!first) return;
  const known: ErrorCode = isErrorCode(first.code) ? first.code : 'VERIFY_FAILED';
  throw new LifeboatError(known, `Archive ${id} failed verification: ${first.message}`, {
    details: { problems, ...(first.path ? { path: first.path } : {}) },
  });
}

/** What each configured source says of its section of the archive (its report). */
function reportsOf(ctx: EngineContext, manifest: Manifest) {
  return manifest.sources.map((s) => ({
    section: s.section,
    ...(ctx.sources.find((src) => src.id === s.id)?.report?.(s.summary, []) ?? {}),
  }));
}
