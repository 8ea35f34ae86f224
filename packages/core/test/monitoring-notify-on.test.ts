import {
  audit,
  createEngine,
  LifeboatError,
  memoryStorage,
  type NotificationEvent,
  type Notifier,
  notifyOn,
  type Source,
} from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

function recorder(id: string) {
  const got: string[] = [];
  const notifier = {
    id,
    describe: () => id,
    async notify(event: NotificationEvent) {
      got.push(
        event.kind === 'backup:succeeded' && event.result.warnings.length
          ? 'backup:succeeded+warnings'
          : event.kind,
      );
    },
  } satisfies Notifier;
  return { notifier, got };
}

describe('NOTIFY_ON (notifyOn wrapper)', () => {
  it('failures page, successes stay quiet; a test reaches everyone', async () => {
    const pager = recorder('pager');
    const everything = recorder('everything');
    let fail = false;
    const good = fileSource({ 'a.txt': 'a' }).source;
    const source: Source = {
      ...good,
      async backup(ctx) {
        if (fail) throw new LifeboatError('SOURCE_FAILED', 'broken on purpose');
        return good.backup(ctx);
      },
    };
    const engine = createEngine({
      sources: [source],
      storage: memoryStorage(),
      notifiers: [notifyOn(pager.notifier, ['failure']), everything.notifier],
    });
    const result = await engine.backup();
    // Only the notifiers asked appear in the result.
    expect(result.notifications.map((n) => n.notifier)).toEqual(['everything']);
    fail = true;
    await expect(engine.backup()).rejects.toThrow();
    await engine.notifyTest();
    expect(pager.got).toEqual(['backup:failed', 'test']);
    expect(everything.got).toEqual(['backup:succeeded', 'backup:failed', 'test']);
    expect(engine.context.notifiers[0]!.describe()).toBe('pager (on failure)');
    await engine.close();
  });

  it('a success with warnings is a warning; a WARNING health alert too, a CRITICAL one a failure', () => {
    const { notifier } = recorder('n');
    const warn = notifyOn(notifier, ['warning']);
    const result = {
      id: 'x',
      file: 'x.tar.gz',
      bytes: 1,
      sha256: '',
      createdAt: '',
      durationMs: 1,
      storage: '',
      encrypted: false,
      tables: [],
      files: 0,
      incomplete: [],
      pruned: [],
      notifications: [],
    };
    const report = (status: 'WARNING' | 'CRITICAL') => ({ status, checkedAt: '', checks: [] });
    expect(warn.accepts!({ kind: 'backup:succeeded', result: { ...result, warnings: [] } })).toBe(
      false,
    );
    expect(
      warn.accepts!({
        kind: 'backup:succeeded',
        result: { ...result, warnings: [{ code: 'LOW_FREE_SPACE', message: '' }] },
      }),
    ).toBe(true);
    expect(warn.accepts!({ kind: 'health:alert', report: report('WARNING') })).toBe(true);
    expect(warn.accepts!({ kind: 'health:alert', report: report('CRITICAL') })).toBe(false);
  });

  it('an unknown category is CONFIG_INVALID naming it', () => {
    const { notifier } = recorder('n');
    expect(() => notifyOn(notifier, ['failures' as never])).toThrow(
      /"failures".*failure, warning, success/,
    );
  });
});

describe('audit of webhook and heartbeat URLs', () => {
  it('flags a token over http:// and a webhook without a secret, never printing the token', async () => {
    const engine = createEngine({ storage: memoryStorage() });
    await engine.context.ready();
    const findings = await audit(engine.context, {
      endpoints: [
        {
          name: 'HEARTBEAT_URL',
          url: 'http://hc.example.com/ping/9b2f6c0e-1d3a-4c5b-8e7f-001122334455',
        },
        {
          name: 'WEBHOOK_URL',
          url: 'https://hooks.example.com/services/T0001/B0002/Xyz123Secret',
          signed: false,
        },
        { name: 'WEBHOOK_URL', url: 'https://hooks.example.com/in', signed: true },
      ],
    });
    const text = JSON.stringify(findings);
    expect(text).not.toContain('9b2f6c0e');
    expect(text).not.toContain('Xyz123Secret');
    const of = (check: string) => findings.filter((f) => f.check === check).map((f) => f.status);
    expect(of('token-in-clear')).toEqual(['finding', 'ok', 'ok']);
    expect(of('unsigned-webhook')).toEqual(['finding', 'ok']);
    await engine.close();
  });
});
