import { deleteArchiveIndex } from './archive-index.js';
import { type ArchiveTrust, isCounted } from './archive-trust.js';
import { listArchives } from './archives.js';
import type { EngineContext } from './context.js';
import { pruneHistory, recordRun } from './history.js';
import { planRetention, type RetentionPlan } from './retention.js';

export interface PruneResult extends RetentionPlan {
  dryRun: boolean;
  deleted: string[];
  /** Run records deleted from the history (older than every kept archive and 90 days). */
  historyDeleted: number;
  /** Files named like archives that do not count as backups: never planned, never deleted. */
  untrusted: ({ id: string; file: string } & ArchiveTrust)[];
}

/** Applies the retention policy. The caller holds the lock. */
export async function prune(
  ctx: EngineContext,
  options: {
    dryRun?: boolean;
    /**
     * Record the run even when nothing was deleted (`lifeboat prune` on its own: monitoring must
     * see that retention ran). After a backup only a deletion is worth a record of its own.
     */
    recordEmpty?: boolean;
  } = {},
): Promise<PruneResult> {
  const started = ctx.now();
  const began = performance.now();
  const listed = await listArchives(ctx);
  // Only archives that count as backups take part: a foreign or future-named file never makes
  // real archives "older", and is not ours to delete.
  const archives = listed.filter(isCounted);
  const untrusted = listed.flatMap((a) =>
    a.untrusted ? [{ id: a.id, file: a.file, ...a.untrusted }] : [],
  );
  for (const item of untrusted)
    if (item.code === 'ARCHIVE_IN_FUTURE')
      ctx.events.emit('warning', { code: item.code, message: item.message });
  const plan = planRetention(archives, ctx.config.retention, ctx.now());
  ctx.events.emit('prune:planned', plan);
  const deleted: string[] = [];
  if (!options.dryRun) {
    for (const item of plan.remove) {
      // Every file of that backup (a `.tar.gz` and a `.tar.gz.age` copy share one id).
      for (const archive of archives.filter((a) => a.id === item.id)) {
        await ctx.storage.delete(archive.file);
        deleted.push(archive.file);
        // Its index goes with it; one left behind is never trusted for another archive.
        await deleteArchiveIndex(ctx, archive).catch(() => {});
      }
      ctx.events.emit('prune:deleted', { id: item.id });
    }
    if (deleted.length > 0 || options.recordEmpty) {
      await recordRun(
        ctx.storage,
        {
          kind: 'prune',
          ok: true,
          startedAt: started.toISOString(),
          durationMs: Math.round(performance.now() - began),
          deleted,
        },
        ctx.cipher,
      ).catch(() => {});
    }
  }
  let historyDeleted = 0;
  if (!options.dryRun) {
    const kept = new Set(plan.keep.map((k) => k.id));
    const oldestKept = archives.filter((a) => kept.has(a.id)).at(-1);
    // The history of what is gone goes too, once it is old; a failure here never fails a prune.
    historyDeleted = await pruneHistory(
      ctx.storage,
      oldestKept ? new Date(oldestKept.createdAt) : ctx.now(),
      ctx.now(),
    ).catch(() => 0);
  }
  return { ...plan, dryRun: Boolean(options.dryRun), deleted, historyDeleted, untrusted };
}
