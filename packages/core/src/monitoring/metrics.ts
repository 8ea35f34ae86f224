import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineContext } from '../engine/context.js';
import { type RunRecord, readHistory } from '../engine/history.js';
import { isLockRefusal } from '../engine/locked-runs.js';
import { type StatusReport, status } from '../engine/status.js';
import { toLifeboatError } from '../errors.js';
import { redact } from '../redact.js';
import { TOOL_VERSION } from '../version.js';

/** The run kinds metrics are labelled with: a deep verify (the restore drill) is its own kind. */
export const RUN_KINDS = ['backup', 'verify', 'deep_verify', 'prune'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** Everything the metrics are computed from; `formatMetrics` is a pure function of it. */
export interface MetricsSnapshot {
  at: Date;
  toolVersion: string;
  status: StatusReport;
  /** The run history, newest first. */
  history: RunRecord[];
  space?: { freeBytes: number; totalBytes: number };
}

export const runKind = (r: RunRecord): RunKind =>
  r.kind === 'verify' ? (r.deep ? 'deep_verify' : 'verify') : r.kind;

/** Reads what the metrics need from the storage: the status, the history, the free space. */
export async function collectMetrics(ctx: EngineContext): Promise<MetricsSnapshot> {
  const report = await status(ctx);
  // Refusals for the lock are not runs' outcomes (most are replicas meeting the run that did the
  // job); a stuck lock shows in status (lockedInARow) and health.
  const history = (await readHistory(ctx.storage, {}, ctx.cipher)).filter((r) => !isLockRefusal(r));
  const space = ctx.storage.freeSpace
    ? await ctx.storage.freeSpace().catch(() => undefined)
    : undefined;
  return {
    at: ctx.now(),
    toolVersion: TOOL_VERSION,
    status: report,
    history,
    ...(space ? { space } : {}),
  };
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  samples: { labels?: Labels; value: number }[];
}

// Label values escape backslash, double quote and newline (the exposition format's rules).
const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const formatValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
const seconds = (iso: string) => Date.parse(iso) / 1000;

function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    out.push(`# TYPE ${f.name} gauge`);
    for (const s of f.samples) {
      const labels = s.labels
        ? `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(',')}}`
        : '';
      out.push(`${f.name}${labels} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The Prometheus text exposition (version 0.0.4) of a snapshot. Every metric is a gauge: the
 * history is pruned with the archives, so nothing read from it could be a monotonic counter.
 * Names follow the conventions: `lifeboat_` prefix, base units, `_seconds`, `_bytes`,
 * `_timestamp_seconds` for Unix times.
 */
export function formatMetrics(snapshot: MetricsSnapshot): string {
  const { status: s, history } = snapshot;
  const now = snapshot.at.getTime() / 1000;
  const last = new Map<RunKind, RunRecord>();
  const lastOk = new Map<RunKind, RunRecord>();
  const lastFailed = new Map<RunKind, RunRecord>();
  for (const r of history) {
    const kind = runKind(r);
    if (!last.has(kind)) last.set(kind, r);
    const byOutcome = r.ok ? lastOk : lastFailed;
    if (!byOutcome.has(kind)) byOutcome.set(kind, r);
  }
  const perKind = (map: Map<RunKind, RunRecord>, value: (r: RunRecord) => number) =>
    RUN_KINDS.flatMap((kind) => {
      const r = map.get(kind);
      return r ? [{ labels: { kind }, value: value(r) }] : [];
    });
  const lastBackup = history.find((r) => r.kind === 'backup' && r.ok);
  const drill = lastOk.get('deep_verify');
  const lastDrill = last.get('deep_verify');
  const families: Family[] = [
    {
      name: 'lifeboat_info',
      help: 'Lifeboat version (always 1).',
      samples: [{ labels: { version: snapshot.toolVersion }, value: 1 }],
    },
    {
      name: 'lifeboat_last_run_timestamp_seconds',
      help: 'Start of the last run of each kind, success or not (Unix time).',
      samples: perKind(last, (r) => seconds(r.startedAt)),
    },
    {
      name: 'lifeboat_last_run_success',
      help: 'Whether the last run of each kind succeeded (1) or failed (0).',
      samples: perKind(last, (r) => (r.ok ? 1 : 0)),
    },
    {
      name: 'lifeboat_last_run_duration_seconds',
      help: 'Duration of the last run of each kind.',
      samples: perKind(last, (r) => r.durationMs / 1000),
    },
    {
      name: 'lifeboat_last_success_timestamp_seconds',
      help: 'Start of the last successful run of each kind (Unix time).',
      samples: perKind(lastOk, (r) => seconds(r.startedAt)),
    },
    {
      name: 'lifeboat_last_failure_timestamp_seconds',
      help: 'Start of the last failed run of each kind (Unix time).',
      samples: perKind(lastFailed, (r) => seconds(r.startedAt)),
    },
    {
      name: 'lifeboat_last_backup_age_seconds',
      help: 'Time since the start of the last successful backup.',
      samples: s.lastSuccess ? [{ value: Math.max(0, now - seconds(s.lastSuccess.at)) }] : [],
    },
    {
      name: 'lifeboat_last_backup_duration_seconds',
      help: 'Duration of the last successful backup.',
      samples: s.lastSuccess ? [{ value: s.lastSuccess.durationMs / 1000 }] : [],
    },
    {
      name: 'lifeboat_last_backup_size_bytes',
      help: 'Size of the archive of the last successful backup, as stored.',
      samples: s.lastSuccess?.bytes !== undefined ? [{ value: s.lastSuccess.bytes }] : [],
    },
    {
      name: 'lifeboat_last_backup_lock_wait_seconds',
      help: "Time the last successful backup waited for another run's lock.",
      samples:
        lastBackup?.lockWaitMs !== undefined ? [{ value: lastBackup.lockWaitMs / 1000 }] : [],
    },
    {
      name: 'lifeboat_last_backup_table_rows',
      help: 'Rows of each table in the last successful backup.',
      samples: (lastBackup?.tables ?? []).map((t) => ({
        labels: { table: t.name },
        value: t.rows,
      })),
    },
    {
      name: 'lifeboat_last_backup_table_size_bytes',
      help: "Bytes of each table's data (CSV, before compression) in the last successful backup.",
      samples: (lastBackup?.tables ?? []).flatMap((t) =>
        t.bytes !== undefined ? [{ labels: { table: t.name }, value: t.bytes }] : [],
      ),
    },
    {
      name: 'lifeboat_last_backup_files',
      help: 'Config files in the last successful backup.',
      samples: lastBackup?.files !== undefined ? [{ value: lastBackup.files }] : [],
    },
    {
      name: 'lifeboat_archives',
      help: 'Archives in the storage.',
      samples: [{ value: s.archives.count }],
    },
    {
      name: 'lifeboat_archives_size_bytes',
      help: 'Total size of the archives in the storage.',
      samples: [{ value: s.archives.totalBytes }],
    },
    {
      name: 'lifeboat_storage_free_bytes',
      help: 'Free space where the archives live.',
      samples: snapshot.space ? [{ value: snapshot.space.freeBytes }] : [],
    },
    {
      name: 'lifeboat_storage_size_bytes',
      help: 'Total space where the archives live.',
      samples: snapshot.space ? [{ value: snapshot.space.totalBytes }] : [],
    },
    {
      name: 'lifeboat_last_drill_timestamp_seconds',
      help: 'Start of the last successful restore drill (verify --deep) (Unix time).',
      samples: drill ? [{ value: seconds(drill.startedAt) }] : [],
    },
    {
      name: 'lifeboat_last_drill_age_seconds',
      help: 'Time since the start of the last successful restore drill (verify --deep).',
      samples: drill ? [{ value: Math.max(0, now - seconds(drill.startedAt)) }] : [],
    },
    {
      name: 'lifeboat_last_drill_success',
      help: 'Whether the last restore drill (verify --deep) succeeded (1) or found problems (0).',
      samples: lastDrill ? [{ value: lastDrill.ok ? 1 : 0 }] : [],
    },
    {
      name: 'lifeboat_backup_success_ratio',
      help: `Share of backup runs that succeeded over the last ${s.successRate.days} days.`,
      samples: s.successRate.rate !== null ? [{ value: s.successRate.rate }] : [],
    },
    {
      name: 'lifeboat_backup_runs',
      help: `Backup runs over the last ${s.successRate.days} days, by outcome.`,
      samples: [
        { labels: { outcome: 'success' }, value: s.successRate.succeeded },
        { labels: { outcome: 'failure' }, value: s.successRate.runs - s.successRate.succeeded },
      ],
    },
    {
      name: 'lifeboat_notification_failures',
      help: `Notifications that failed over the last ${s.successRate.days} days.`,
      samples: [{ value: s.notificationFailures.length }],
    },
    {
      name: 'lifeboat_metrics_collect_success',
      help: 'Whether the storage could be read to compute these metrics (1) or not (0).',
      samples: [{ value: 1 }],
    },
  ];
  return render(families);
}

/** What a scrape answers when the storage cannot be read: the failure itself is a metric. */
export function formatMetricsFailure(toolVersion = TOOL_VERSION): string {
  return render([
    {
      name: 'lifeboat_info',
      help: 'Lifeboat version (always 1).',
      samples: [{ labels: { version: toolVersion }, value: 1 }],
    },
    {
      name: 'lifeboat_metrics_collect_success',
      help: 'Whether the storage could be read to compute these metrics (1) or not (0).',
      samples: [{ value: 0 }],
    },
  ]);
}

/** The Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * A node:http (and Express/Connect) handler a host mounts at `GET /metrics`. A storage that
 * cannot be read answers 200 with `lifeboat_metrics_collect_success 0` (so the alert fires on
 * the value, not on a failed scrape) and the reason in a comment line, redacted.
 */
export function metricsHandler(source: { context: EngineContext }) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let text: string;
    try {
      text = formatMetrics(await collectMetrics(source.context));
    } catch (error) {
      const e = toLifeboatError(error, 'STORAGE_FAILED');
      text = `# ${redact(`${e.code}: ${e.message}`).replace(/\n/g, ' ')}\n${formatMetricsFailure()}`;
    }
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
    res.end(text);
  };
}
