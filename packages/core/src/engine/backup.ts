import { renderBackupInfo } from '../archive/backup-info.js';
import { ARCHIVE_EXTENSION, uniqueArchiveId } from '../archive/naming.js';
import { createArchiveWriter } from '../archive/writer.js';
import type { AnySource, BackupResult, EntryRecord, SourceReport } from '../contracts.js';
import { hostHint, LifeboatError, throwIfAborted, toLifeboatError } from '../errors.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  BACKUP_INFO_PATH,
  MANIFEST_PATH,
  type Manifest,
} from '../manifest.js';
import { digestTap } from '../streams/digest-tap.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { writeArchiveIndex } from './archive-index.js';
import { listArchives } from './archives.js';
import type { EngineContext } from './context.js';
import { describeLeftOut, incompleteError } from './incomplete.js';

export interface BackupOptions {
  signal?: AbortSignal;
}

/** What one backup came to: its result, or its failure as a value (with the archive it named). */
export type BackupOutcome =
  | { ok: true; result: BackupResult }
  | { ok: false; failure: LifeboatError; archiveId?: string; durationMs: number };

/**
 * One backup of every source into one archive, streamed to the storage as it is made.
 * On failure nothing is left under the archive's name; the failure is returned, and the caller
 * (runBackup) says so once: `backup:failed`, the history, the notifiers.
 */
export async function createBackup(
  ctx: EngineContext,
  options: BackupOptions = {},
  /** The sources' checks, already started (runBackup starts them beside the lock), in order. */
  checked?: Promise<void>[],
): Promise<BackupOutcome> {
  const started = ctx.now();
  const startedMs = performance.now();
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  let id: string | undefined;
  try {
    throwIfAborted(signal);
    if (ctx.sources.length === 0) {
      throw new LifeboatError('CONFIG_INVALID', 'Nothing to back up: no source is configured', {
        hint: hostHint('sources:none', 'Configure at least one source.'),
      });
    }
    await ctx.ready(signal);
    // Every source checks its preconditions (a config file that is missing, a database that
    // refuses) before any of them is read: a long dump must not end on a missing file.
    for (const [i, source] of ctx.sources.entries())
      await (checked?.[i] ?? ctx.sourceReady(source, signal));
    const taken = new Set((await listArchives(ctx, signal)).map((a) => a.id));
    id = uniqueArchiveId(ctx.config.prefix, started, taken);
    const file = `${id}${ARCHIVE_EXTENSION}${ctx.cipher?.extension ?? ''}`;
    ctx.events.emit('backup:started', {
      id,
      file,
      sources: ctx.sources.map((s) => s.id),
      storage: ctx.storage.describe(),
    });

    const writer = createArchiveWriter({
      compressionLevel: ctx.config.compressionLevel,
      compressionConcurrency: ctx.config.compressionConcurrency,
      signal,
    });
    const { stream: tap, digest } = digestTap();
    const encrypted = ctx.cipher ? ctx.cipher.encrypt(writer.output) : writer.output;
    encrypted.on('error', (e) => tap.destroy(e));
    // The storage may not listen yet when a source fails first: the error is put's to report.
    tap.on('error', () => {});
    encrypted.pipe(tap);
    const put = ctx.storage.put(file, tap, {
      signal,
      metadata: { 'lifeboat-id': id, 'lifeboat-format': String(ARCHIVE_FORMAT_VERSION) },
    });
    // If the storage fails first, stop the sources at once.
    put.catch((error) => {
      controller.abort(error);
      writer.abort(toLifeboatError(error, 'STORAGE_FAILED'));
    });

    const warnings: { code: string; message: string }[] = [];
    const incomplete: BackupResult['incomplete'] = [];
    let manifestBytes = Buffer.alloc(0);
    const summaries: Manifest['sources'] = [];
    let reports: (SourceReport & { section: string })[] = [];
    try {
      for (const source of ctx.sources) {
        throwIfAborted(signal);
        summaries.push({
          id: source.id,
          section: source.section,
          summary: await backupSource(
            ctx,
            source,
            writer.add.bind(writer),
            { warnings, incomplete },
            signal,
          ),
        });
      }
      // Every entry so far compressed and located: the manifest lists where each one starts.
      await writer.sync();
      const completed = ctx.now();
      const manifest: Manifest = {
        format: ARCHIVE_FORMAT,
        formatVersion: ARCHIVE_FORMAT_VERSION,
        tool: { name: TOOL_NAME, version: TOOL_VERSION },
        createdAt: started.toISOString(),
        completedAt: completed.toISOString(),
        durationMs: Math.round(performance.now() - startedMs),
        compression: { algorithm: 'gzip', level: ctx.config.compressionLevel },
        sources: summaries,
        entries: [...writer.entries],
        warnings,
        ...(incomplete.length ? { incomplete } : {}),
      };
      manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      await writer.add(MANIFEST_PATH, {
        path: MANIFEST_PATH,
        type: 'file',
        body: manifestBytes,
        mode: 0o644,
        mtime: completed,
      });
      const manual = summaries.map((s) => ({
        section: s.section,
        steps: ctx.sources.find((src) => src.id === s.id)?.manualRestoreSteps?.(s.summary) ?? [],
      }));
      // Each source says what its summary amounts to: the engine reads no source's shape.
      reports = summaries.map((s) => ({
        section: s.section,
        ...(ctx.sources
          .find((src) => src.id === s.id)
          ?.report?.(
            s.summary,
            writer.entries.filter((e) => e.path.startsWith(`${s.section}/`)),
          ) ?? {}),
      }));
      const contents = reports.map((r) => ({ section: r.section, lines: r.lines ?? [] }));
      await writer.add(BACKUP_INFO_PATH, {
        path: BACKUP_INFO_PATH,
        type: 'file',
        body: Buffer.from(renderBackupInfo(id, manifest, manual, contents)),
        mode: 0o644,
        mtime: completed,
      });
      await writer.add('SHA256SUMS', {
        path: 'SHA256SUMS',
        type: 'file',
        body: Buffer.from(
          manifest.entries
            .filter((e) => e.sha256)
            .map((e) => `${e.sha256}  ${e.path}\n`)
            .join(''),
        ),
        mode: 0o644,
        mtime: completed,
      });
      await writer.finish();
    } catch (error) {
      const failure = toLifeboatError(error, 'SOURCE_FAILED');
      writer.abort(failure);
      controller.abort(failure);
      await put.catch(() => {});
      throw failure;
    }
    const stored = await put;
    const { sha256, bytes: tapped } = digest();
    const bytes = stored.bytes || tapped;
    // Lets a restore skip reading the archive twice; without it, a restore checks fully.
    await writeArchiveIndex(
      ctx,
      { file, bytes, sha256, encrypted: Boolean(ctx.cipher) },
      manifestBytes,
      writer.entries.find((e) => e.path === MANIFEST_PATH)?.location,
    ).catch((error) => {
      const warning = {
        code: 'INDEX_FAILED',
        message: `Could not write the index of ${file}: ${(error as Error).message}; without it the archive does not count as a backup (latest, health, retention) and is restored only by its id`,
      };
      warnings.push(warning);
      ctx.events.emit('warning', warning);
    });
    const tables = reports
      .flatMap((r) => r.tables ?? [])
      .map((t) => ({
        name: t.name,
        rows: t.rows,
        ...(typeof t.bytes === 'number' ? { bytes: t.bytes } : {}),
      }));
    const result: BackupResult = {
      id,
      file,
      bytes,
      sha256,
      createdAt: started.toISOString(),
      durationMs: Math.round(performance.now() - startedMs),
      storage: ctx.storage.describe(),
      encrypted: Boolean(ctx.cipher),
      tables,
      files: reports.reduce((n, r) => n + (r.files ?? 0), 0),
      warnings,
      incomplete,
      ...scopeOf(reports),
      pruned: [],
      notifications: [],
    };
    return { ok: true, result };
  } catch (error) {
    return {
      ok: false,
      failure: toLifeboatError(error, 'SOURCE_FAILED'),
      ...(id ? { archiveId: id } : {}),
      durationMs: Math.round(performance.now() - startedMs),
    };
  }
}

async function backupSource(
  ctx: EngineContext,
  source: AnySource,
  add: (
    path: string,
    entry: Parameters<ReturnType<typeof createArchiveWriter>['add']>[1],
  ) => Promise<EntryRecord>,
  found: { warnings: BackupResult['warnings']; incomplete: BackupResult['incomplete'] },
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const { warnings, incomplete } = found;
  const began = performance.now();
  ctx.events.emit('source:started', { source: source.id });
  await ctx.sourceReady(source, signal);
  const summary = await source.backup({
    signal,
    emit: async (entry) => {
      const record = await add(`${source.section}/${entry.path}`, entry);
      ctx.events.emit('entry:done', record);
      return record;
    },
    progress: (p) => ctx.events.emit('source:progress', { source: source.id, ...p }),
    item: (done) => ctx.events.emit('source:item', { source: source.id, phase: 'backup', ...done }),
    warn: (code, message, details) => {
      warnings.push({ code, message });
      ctx.events.emit('warning', { code, message, ...(details ? { details } : {}) });
    },
    allowIncomplete: ctx.config.allowIncomplete,
    encrypted: Boolean(ctx.cipher),
    leaveOut: (objects) => {
      // A source that forgot to ask: the setting still decides, before the archive is finished.
      if (!ctx.config.allowIncomplete) throw incompleteError(source.id, objects);
      for (const o of objects) {
        incomplete.push({ source: source.id, ...o });
        const warning = { code: 'BACKUP_INCOMPLETE', message: `Left out: ${describeLeftOut(o)}` };
        warnings.push(warning);
        ctx.events.emit('warning', { ...warning, details: { source: source.id, ...o } });
      }
    },
  });
  ctx.events.emit('source:done', {
    source: source.id,
    durationMs: Math.round(performance.now() - began),
  });
  if (!summary || typeof summary !== 'object') {
    throw new LifeboatError('SOURCE_FAILED', `Source ${source.id} returned no summary`);
  }
  // The manifest keeps it as JSON: a source's typed summary is one JSON object.
  return summary as Record<string, unknown>;
}

/** The sources' selection rules, each after its section (`database: include schema app`). */
export function scopeOf(reports: (SourceReport & { section: string })[]): { scope?: string[] } {
  const scope = reports.flatMap((r) => (r.scope ?? []).map((rule) => `${r.section}: ${rule}`));
  return scope.length > 0 ? { scope } : {};
}
