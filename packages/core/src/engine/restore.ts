import type {
  AnySource,
  ArchiveEntry,
  RestoreContext,
  RestoreTarget,
  SourceRestoreOptions,
} from '../contracts.js';
import { hostHint, LifeboatError, toLifeboatError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { readArchiveIndex, storedMatches } from './archive-index.js';
import { openArchive, resolveArchive } from './archives.js';
import { type EngineContext, errorSummary } from './context.js';
import { planPartialRead, selectedSection } from './partial-read.js';
import { dispatchSections, optionsFor, type SectionHandler, sectionContexts } from './sections.js';
import { quickCheck, throwFirstProblem } from './verify.js';

/** Where one section goes, as its source found it before anything was written. */
export interface PlannedTarget extends RestoreTarget {
  section: string;
  source: string;
}

/**
 * A restore's options: the engine's own, and each source's under its id
 * (`{ postgres: { targetDatabase: 'app_restored' }, 'config-files': { targetDir: '/tmp/cfg' } }`).
 */
export interface EngineRestoreOptions extends SourceRestoreOptions {
  /**
   * Restore only this section: `database` or `config`. A source's partial restore (postgres
   * `tables`/`asSuffix`) implies its own section.
   */
  only?: string;
  /**
   * Consent to replace what a target holds now (`clean` into a non-empty database): `true`, or a
   * function shown the targets that returns whether to go on. Without it such a restore refuses.
   */
  confirm?: boolean | ((targets: PlannedTarget[]) => boolean | Promise<boolean>);
  signal?: AbortSignal;
}

export interface WrittenSection {
  section: string;
  source: string;
  summary: Record<string, unknown>;
}

export interface RestoreResult {
  id: string;
  durationMs: number;
  /** Every section's target, checked before anything was written. */
  targets: PlannedTarget[];
  /** What was written (a failed restore's error lists it too, in `details.written`). */
  sections: WrittenSection[];
}

function sourcesFor(
  ctx: EngineContext,
  manifest: Manifest,
  archiveId: string,
  only: string | undefined,
) {
  const wanted = manifest.sources.filter((s) => !only || s.section === only);
  if (wanted.length === 0) {
    throw new LifeboatError('NOT_FOUND', `Archive ${archiveId} has no "${only}" section`, {
      hint: `It holds: ${manifest.sources.map((s) => s.section).join(', ') || 'nothing'}.`,
    });
  }
  const found: { section: Manifest['sources'][number]; source: AnySource }[] = [];
  const skipped: string[] = [];
  for (const section of wanted) {
    const source = ctx.sources.find((s) => s.id === section.id && s.section === section.section);
    if (source) {
      found.push({ section, source });
      continue;
    }
    if (only) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `No ${section.id} source is configured to restore "${section.section}/"`,
        { hint: hostHint(`source-missing:${section.id}`, 'Configure the source.') },
      );
    }
    skipped.push(`"${section.section}/" is not restored: no ${section.id} source is configured`);
  }
  return { found, skipped };
}

async function confirmed(options: EngineRestoreOptions, targets: PlannedTarget[]) {
  const replacing = targets.filter((t) => t.replaces.length > 0);
  if (replacing.length === 0) return;
  const consent =
    typeof options.confirm === 'function' ? await options.confirm(targets) : options.confirm;
  if (consent === true) return;
  throw new LifeboatError(
    'CONFIRMATION_REQUIRED',
    `Not confirmed: the restore would replace what ${replacing.map((t) => t.target).join(' and ')} holds now (${replacing
      .flatMap((t) => t.replaces)
      .slice(0, 5)
      .join(', ')}…)`,
    { details: { targets: replacing } },
  );
}

/** Runs one section's restore; what it wrote before failing (`details.written`) is recorded. */
async function restoreSection(
  source: AnySource,
  written: WrittenSection[],
  section: string,
  context: RestoreContext,
): Promise<Record<string, unknown>> {
  try {
    return await source.restore(context);
  } catch (error) {
    const partly = (error as LifeboatError).details?.written;
    if (Array.isArray(partly) && partly.length > 0) {
      written.push({ section, source: source.id, summary: { failed: true, written: partly } });
    }
    throw error;
  }
}

/** The error of a failed restore, with what had been written before it failed. */
function withWritten(error: LifeboatError, written: WrittenSection[]): LifeboatError {
  return new LifeboatError(error.code, error.message, {
    cause: error.cause ?? error,
    hint: error.hint,
    retryable: error.retryable,
    details: { ...error.details, written },
  });
}

/** A promise's outcome, kept: its failure counts only if the caller asks (`unwrap`). */
const settled = <T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

function unwrap<T>(outcome: { value: T } | { error: unknown }): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * Restores an archive. The archive is checked first, so a damaged or hostile archive is refused
 * before anything is written: by its stored sha256 when its index is intact (one cheap pass over
 * the raw bytes), else by reading and hashing every entry. Then every section's preconditions are
 * checked (`checkRestore`) and what would be replaced is confirmed, still before anything is
 * written. Then each section goes to the source that wrote it, every entry checked against the
 * manifest again as it streams (by name only when the stored sha256 matched). While the stored
 * bytes are hashed, a source may prepare its target from the index's manifest
 * (`prepareRestore`: postgres creates the new database); a restore that stops before that
 * section started undoes it.
 */
export async function runRestore(
  ctx: EngineContext,
  ref: string,
  options: EngineRestoreOptions = {},
): Promise<RestoreResult> {
  const began = performance.now();
  const archive = await resolveArchive(ctx, ref, options.signal);
  const { signal } = options;
  const sections: WrittenSection[] = [];
  // What sources prepared while the stored bytes were hashed (`prepareRestore`), by section:
  // undone unless that section's restore started, so a restore refused before it started
  // leaves its targets as they were.
  const prepared = new Map<string, () => Promise<void>>();
  // The planning that may prepare, still running when the hash check failed: waited for first.
  let preparing: Promise<unknown> = Promise.resolve();
  const undoPrepared = async () => {
    await preparing;
    const undo = [...prepared.values()];
    prepared.clear();
    await Promise.all(undo.map((u) => u().catch(() => {})));
  };
  try {
    const only = selectedSection(ctx, options);
    const checkBegan = performance.now();
    // Every section's preconditions (`checkRestore`): only reads, nothing is written. With
    // `prepare`, once every check passed and nothing is to be replaced (no confirmation asked),
    // the sources start what they may before the archive is known good.
    const plan = async (manifest: Manifest, prepare = false) => {
      const { found: restoring, skipped } = sourcesFor(ctx, manifest, archive.id, only);
      const targets: PlannedTarget[] = [];
      for (const { section, source } of restoring) {
        const context = {
          signal: signal ?? new AbortController().signal,
          summary: section.summary,
          manifest,
          options: optionsFor(options, source),
        };
        const target: RestoreTarget = source.checkRestore
          ? await source.checkRestore(context)
          : { target: source.describe(), inPlace: true, replaces: [] };
        targets.push({ section: section.section, source: source.id, ...target });
      }
      if (prepare && targets.every((t) => t.replaces.length === 0)) {
        for (const { section, source } of restoring) {
          const undo = await source.prepareRestore?.({
            signal: signal ?? new AbortController().signal,
            summary: section.summary,
            manifest,
            options: optionsFor(options, source),
          });
          if (undo) prepared.set(section.section, undo);
        }
      }
      return { manifest, restoring, skipped, targets };
    };
    // A partial restore reads only the members it needs, when the archive's index allows.
    const partial = await planPartialRead(ctx, archive, { only, options }, signal);
    const index = partial ? undefined : await readArchiveIndex(ctx, archive, signal);
    // The targets are checked while the stored bytes are hashed (both only read); what the
    // index's manifest planned counts only once the bytes match it, and the hash decides
    // first, so a bad archive is reported as such whatever the targets say.
    const planning = index && settled(plan(index.manifest, true));
    if (planning) preparing = planning;
    const indexed =
      index && (await storedMatches(ctx, archive, index.stored, signal))
        ? { manifest: index.manifest, stored: index.stored }
        : undefined;
    const method = partial ? 'ranges' : indexed ? 'index' : 'full';
    let planned: Awaited<ReturnType<typeof plan>>;
    if (partial) planned = await plan(partial.manifest);
    else if (indexed && planning) planned = unwrap(await planning);
    else {
      // The bytes are not the ones indexed: what was prepared from its manifest goes first.
      await planning;
      await undoPrepared();
      const check = await quickCheck(ctx, archive, signal);
      throwFirstProblem(check.problems, archive.id);
      planned = await plan(check.manifest!);
    }
    const { manifest, restoring, skipped, targets } = planned;
    ctx.events.emit('restore:planned', { id: archive.id, targets });
    for (const message of skipped) ctx.events.emit('warning', { code: 'SECTION_SKIPPED', message });
    ctx.events.emit('restore:checked', {
      id: archive.id,
      method,
      durationMs: Math.round(performance.now() - checkBegan),
    });
    await confirmed(options, targets);

    const handlers = new Map<string, SectionHandler>();
    const contextOf = sectionContexts(ctx, manifest, options, signal);
    for (const { section, source } of restoring) {
      handlers.set(section.section, async (entries: AsyncIterable<ArchiveEntry>) => {
        // From here on what was prepared is the section's restore's own.
        prepared.delete(section.section);
        const context = contextOf(source, section.summary, entries);
        const summary = await restoreSection(source, sections, section.section, context);
        sections.push({ section: section.section, source: source.id, summary });
      });
    }
    ctx.events.emit('restore:started', { id: archive.id, sections: [...handlers.keys()] });
    // Trusted by its stored sha256: entries are not hashed again, the bytes read are.
    const input = partial?.entries ?? (await openArchive(ctx, archive, signal, indexed?.stored));
    await dispatchSections(input, manifest, handlers, signal, {
      trusted: Boolean(indexed),
      concurrency: ctx.config.compressionConcurrency,
    });
    await undoPrepared();
    const durationMs = Math.round(performance.now() - began);
    ctx.events.emit('restore:succeeded', { id: archive.id, durationMs });
    return { id: archive.id, durationMs, targets, sections };
  } catch (error) {
    await undoPrepared();
    const failure = withWritten(toLifeboatError(error, 'RESTORE_FAILED'), sections);
    ctx.events.emit('restore:failed', { id: archive.id, error: errorSummary(failure) });
    throw failure;
  }
}
