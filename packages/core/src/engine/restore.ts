import type { ArchiveEntry, RestoreOptions } from '../contracts.js';
import { LifeboatError, toLifeboatError } from '../errors.js';
import { indexedManifest } from './archive-index.js';
import { openArchive, resolveArchive } from './archives.js';
import { type EngineContext, errorSummary } from './context.js';
import { planPartialRead } from './partial-read.js';
import { dispatchSections, type SectionHandler } from './sections.js';
import { quickCheck, throwFirstProblem } from './verify.js';

export interface EngineRestoreOptions extends RestoreOptions {
  /** Restore only this section: `database` or `config`. */
  only?: string;
  signal?: AbortSignal;
}

export interface RestoreResult {
  id: string;
  durationMs: number;
  sections: { section: string; source: string; summary: Record<string, unknown> }[];
}

/**
 * Restores an archive. The archive is checked first, so a damaged or hostile archive is refused
 * before anything is written: by its stored sha256 when its index is intact (one cheap pass over
 * the raw bytes), else by reading and hashing every entry. Then each section goes to the source
 * that wrote it, every entry checked against the manifest again as it streams (by name only
 * when the stored sha256 matched).
 */
export async function runRestore(
  ctx: EngineContext,
  ref: string,
  options: EngineRestoreOptions = {},
): Promise<RestoreResult> {
  const began = performance.now();
  const archive = await resolveArchive(ctx, ref);
  const { signal, only, ...sourceOptions } = options;
  try {
    const checkBegan = performance.now();
    // A partial restore reads only the members it needs, when the archive's index allows.
    const partial = await planPartialRead(ctx, archive, { only, options: sourceOptions }, signal);
    const indexed = partial ? undefined : await indexedManifest(ctx, archive, signal);
    const method = partial ? 'ranges' : indexed ? 'index' : 'full';
    let manifest = partial?.manifest ?? indexed?.manifest;
    if (!manifest) {
      const check = await quickCheck(ctx, archive, signal);
      throwFirstProblem(check.problems, archive.id);
      manifest = check.manifest!;
    }
    ctx.events.emit('restore:checked', {
      id: archive.id,
      method,
      durationMs: Math.round(performance.now() - checkBegan),
    });
    const wanted = manifest.sources.filter((s) => !only || s.section === only);
    if (wanted.length === 0) {
      throw new LifeboatError('NOT_FOUND', `Archive ${archive.id} has no "${only}" section`, {
        hint: `It holds: ${manifest.sources.map((s) => s.section).join(', ') || 'nothing'}.`,
      });
    }
    const handlers = new Map<string, SectionHandler>();
    const sections: RestoreResult['sections'] = [];
    for (const section of wanted) {
      const source = ctx.sources.find((s) => s.id === section.id && s.section === section.section);
      if (!source) {
        if (only) {
          throw new LifeboatError(
            'CONFIG_INVALID',
            `No ${section.id} source is configured to restore "${section.section}/"`,
            {
              hint:
                section.id === 'postgres'
                  ? 'Configure the database (DATABASE_URL or POSTGRES_*).'
                  : 'Configure the source.',
            },
          );
        }
        ctx.events.emit('warning', {
          code: 'SECTION_SKIPPED',
          message: `"${section.section}/" is not restored: no ${section.id} source is configured`,
        });
        continue;
      }
      handlers.set(section.section, async (entries: AsyncIterable<ArchiveEntry>) => {
        const summary = await source.restore({
          signal: signal ?? new AbortController().signal,
          events: ctx.events,
          summary: section.summary,
          manifest,
          entries,
          options: sourceOptions,
          warn: (code, message, details) =>
            ctx.events.emit('warning', { code, message, ...(details ? { details } : {}) }),
        });
        sections.push({ section: section.section, source: source.id, summary });
      });
    }
    ctx.events.emit('restore:started', { id: archive.id, sections: [...handlers.keys()] });
    // Trusted by its stored sha256: entries are not hashed again, the bytes read are.
    const input = partial?.entries ?? (await openArchive(ctx, archive, signal, indexed?.stored));
    await dispatchSections(input, manifest, handlers, signal, { trusted: Boolean(indexed) });
    const durationMs = Math.round(performance.now() - began);
    ctx.events.emit('restore:succeeded', { id: archive.id, durationMs });
    return { id: archive.id, durationMs, sections };
  } catch (error) {
    const failure = toLifeboatError(error, 'RESTORE_FAILED');
    ctx.events.emit('restore:failed', { id: archive.id, error: errorSummary(failure) });
    throw failure;
  }
}
