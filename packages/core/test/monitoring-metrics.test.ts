import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  collectMetrics,
  createEngine,
  formatMetrics,
  LifeboatError,
  METRICS_CONTENT_TYPE,
  memoryStorage,
  metricsHandler,
  recordRun,
  type Source,
  type Storage,
} from '@lifeboat/core';
import parse from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

type Parsed = ReturnType<typeof parse>;
const value = (families: Parsed, name: string, labels: Record<string, string> = {}) => {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
};

/** A source whose summary lists tables with rows and bytes, as the postgres source does. */
function tableSource(tables: { name: string; rows: number; bytes: number }[]): Source {
  const { source } = fileSource({ 'a.csv': 'id\n1\n' }, 'database');
  return {
    ...source,
    async backup(ctx) {
      await source.backup(ctx);
      return { tables };
    },
    // The source reports its tables for the result (the engine reads no summary's shape).
    report: (summary) => ({ tables: summary.tables as typeof tables }),
  };
}

describe('metrics', () => {
  it('parse with a Prometheus text parser and match engine.status()', async () => {
    const storage = memoryStorage();
    const tables = [
      { name: 'public.users', rows: 500, bytes: 12_345 },
      { name: 'odd."name"\\x\nline', rows: 3, bytes: 42 },
    ];
    let fail = false;
    const good = tableSource(tables);
    const source: Source = {
      ...good,
      async backup(ctx) {
        if (fail) throw new LifeboatError('SOURCE_FAILED', 'broken on purpose');
        return good.backup(ctx);
      },
    };
    // keepLast 1: the second backup prunes the first, so a prune run is recorded too.
    const engine = createEngine({ sources: [source], storage, retention: { keepLast: 1 } });
    await engine.backup();
    const first = await engine.backup();
    await engine.verify('latest', { deep: true });
    await engine.verify('latest');
    fail = true;
    await expect(engine.backup()).rejects.toThrow();

    const text = await engine.metrics();
    const families = parse(text);
    const status = await engine.status();
    const history = await engine.history();
    for (const f of families) {
      expect(f.name).toMatch(/^lifeboat_[a-z_]+$/);
      expect(f.type).toBe('GAUGE');
      expect(f.help.length).toBeGreaterThan(5);
    }
    expect(value(families, 'lifeboat_archives')).toBe(status.archives.count);
    expect(value(families, 'lifeboat_archives_size_bytes')).toBe(status.archives.totalBytes);
    expect(value(families, 'lifeboat_last_backup_size_bytes')).toBe(status.lastSuccess!.bytes);
    expect(value(families, 'lifeboat_last_backup_size_bytes')).toBe(first.bytes);
    expect(value(families, 'lifeboat_last_backup_duration_seconds')).toBe(
      status.lastSuccess!.durationMs / 1000,
    );
    expect(value(families, 'lifeboat_last_success_timestamp_seconds', { kind: 'backup' })).toBe(
      Date.parse(status.lastSuccess!.at) / 1000,
    );
    expect(value(families, 'lifeboat_last_failure_timestamp_seconds', { kind: 'backup' })).toBe(
      Date.parse(status.lastFailure!.at) / 1000,
    );
    expect(value(families, 'lifeboat_last_run_success', { kind: 'backup' })).toBe(0);
    expect(value(families, 'lifeboat_last_run_success', { kind: 'deep_verify' })).toBe(1);
    expect(value(families, 'lifeboat_last_run_success', { kind: 'verify' })).toBe(1);
    expect(value(families, 'lifeboat_last_run_success', { kind: 'prune' })).toBe(1);
    expect(value(families, 'lifeboat_backup_success_ratio')).toBe(status.successRate.rate);
    expect(value(families, 'lifeboat_backup_runs', { outcome: 'failure' })).toBe(1);
    const drill = history.find((r) => r.kind === 'verify' && r.deep)!;
    expect(value(families, 'lifeboat_last_drill_timestamp_seconds')).toBe(
      Date.parse(drill.startedAt) / 1000,
    );
    expect(value(families, 'lifeboat_last_drill_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(families, 'lifeboat_last_backup_lock_wait_seconds')).toBeGreaterThanOrEqual(0);
    // Label values with quotes, backslashes and newlines survive the round trip.
    for (const t of tables) {
      expect(value(families, 'lifeboat_last_backup_table_rows', { table: t.name })).toBe(t.rows);
      expect(value(families, 'lifeboat_last_backup_table_size_bytes', { table: t.name })).toBe(
        t.bytes,
      );
    }
    expect(value(families, 'lifeboat_metrics_collect_success')).toBe(1);
    expect(families.find((f) => f.name === 'lifeboat_info')?.metrics[0]?.labels?.version).toMatch(
      /\d/,
    );
    await engine.close();
  });

  it('free space comes from the storage when it can tell', async () => {
    const base = memoryStorage();
    const storage: Storage = Object.assign(Object.create(base) as Storage, {
      freeSpace: async () => ({ freeBytes: 5_000_000, totalBytes: 9_000_000 }),
    });
    const engine = createEngine({ sources: [fileSource({ a: 'b' }).source], storage });
    const families = parse(formatMetrics(await collectMetrics(engine.context)));
    expect(value(families, 'lifeboat_storage_free_bytes')).toBe(5_000_000);
    expect(value(families, 'lifeboat_storage_size_bytes')).toBe(9_000_000);
    // Nothing ran yet: no per-kind sample, but the archive count is there (0).
    expect(value(families, 'lifeboat_archives')).toBe(0);
    expect(families.find((f) => f.name === 'lifeboat_last_run_success')).toBeUndefined();
  });

  it('a history record from another tool version without tables or lock wait still renders', async () => {
    const storage = memoryStorage();
    await storage.connect();
    await recordRun(storage, {
      kind: 'backup',
      ok: true,
      id: 'critical_backup_20260101_000000',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1500,
    });
    const engine = createEngine({ storage, now: () => new Date('2026-01-02T00:00:00.000Z') });
    const families = parse(await engine.metrics());
    expect(value(families, 'lifeboat_last_success_timestamp_seconds', { kind: 'backup' })).toBe(
      Date.parse('2026-01-01T00:00:00.000Z') / 1000,
    );
    expect(families.find((f) => f.name === 'lifeboat_last_backup_table_rows')).toBeUndefined();
  });

  it('metricsHandler serves the text format over real HTTP, and a collect failure as a metric', async () => {
    const engine = createEngine({
      sources: [fileSource({ a: 'b' }).source],
      storage: memoryStorage(),
    });
    await engine.backup();
    const broken = createEngine({
      storage: Object.assign(Object.create(memoryStorage()) as Storage, {
        list: async () => {
          throw new LifeboatError('STORAGE_FAILED', 'cannot list postgres://u:hunter22@db/x');
        },
      }),
    });
    const handlers = { '/ok': metricsHandler(engine), '/broken': metricsHandler(broken) };
    const server = createServer((req, res) => {
      void handlers[req.url as keyof typeof handlers](req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetch(`${base}/ok`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
      const families = parse(await ok.text());
      expect(value(families, 'lifeboat_archives')).toBe(1);
      const bad = await fetch(`${base}/broken`);
      const text = await bad.text();
      expect(bad.status).toBe(200);
      expect(value(parse(text), 'lifeboat_metrics_collect_success')).toBe(0);
      expect(text).toContain('STORAGE_FAILED');
      expect(text).not.toContain('hunter22');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
    }
  });
});
