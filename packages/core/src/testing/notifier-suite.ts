import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupResult, NotificationEvent, Notifier } from '../contracts.js';

export interface NotifierHarness {
  /** A notifier pointed at a real receiver the test started (a mail server, an HTTP endpoint). */
  notifier: Notifier;
  /** How many messages the receiver has got so far. */
  delivered(): Promise<number> | number;
  /** Everything the receiver got so far, as text (checked for secrets). */
  received?(): Promise<string> | string;
  /** The same notifier pointed at a receiver that refuses or is not there. */
  failing?(): Promise<Notifier> | Notifier;
  cleanup?(): Promise<void>;
}

export interface NotifierSuiteOptions {
  /** Secrets the notifier knows (a password, a signing secret): never in describe() or errors. */
  secrets?: string[];
}

/** A backup result as the engine reports one, for notifier tests. */
export function sampleBackupResult(overrides: Partial<BackupResult> = {}): BackupResult {
  return {
    id: 'critical_backup_20250102_030405',
    file: 'critical_backup_20250102_030405.tar.gz',
    bytes: 1_572_864,
    sha256: 'a'.repeat(64),
    createdAt: '2025-01-02T03:04:05.000Z',
    durationMs: 65_000,
    storage: 'local /var/backups/lifeboat',
    encrypted: true,
    tables: [
      { name: 'public.users', rows: 1234 },
      { name: 'public.orders', rows: 56789 },
    ],
    files: 4,
    warnings: [{ code: 'TABLE_EMPTY', message: 'public.audit has no rows' }],
    incomplete: [],
    pruned: [],
    notifications: [],
    ...overrides,
  };
}

/** One event of every kind the engine sends to notifiers. */
export function sampleNotificationEvents(): NotificationEvent[] {
  const at = new Date('2025-01-02T03:04:05.000Z');
  return [
    { kind: 'backup:succeeded', result: sampleBackupResult() },
    {
      kind: 'backup:failed',
      error: { code: 'SOURCE_FAILED', message: 'connect ECONNREFUSED', hint: 'Is it running?' },
      at,
      storage: 'local /var/backups/lifeboat',
    },
    {
      kind: 'health:alert',
      report: {
        status: 'CRITICAL',
        checkedAt: at.toISOString(),
        checks: [{ name: 'last-backup', status: 'critical', message: 'No successful backup' }],
      },
    },
    { kind: 'test', at },
  ];
}

const HEALTH_STATUSES = ['ok', 'warning', 'critical'];

/**
 * The shared notifier conformance suite: every notifier package runs it, so a new notifier
 * (a chat service, a pager) delivers every event it accepts exactly once, honours a cancelled
 * signal, and never leaks a secret into its description or its errors.
 */
export function testNotifier(
  name: string,
  create: () => Promise<NotifierHarness>,
  options: NotifierSuiteOptions = {},
) {
  describe(`notifier conformance: ${name}`, () => {
    let harness: NotifierHarness;
    beforeEach(async () => {
      harness = await create();
    });
    afterEach(async () => {
      await harness.notifier.close?.();
      await harness.cleanup?.();
    });

    const noSecrets = (text: string) => {
      for (const secret of options.secrets ?? []) expect(text).not.toContain(secret);
    };

    it('has an id and a description without secrets', () => {
      expect(harness.notifier.id).toMatch(/^[a-z0-9-]+$/);
      const text = harness.notifier.describe();
      expect(text.length).toBeGreaterThan(0);
      noSecrets(text);
    });

    it('delivers each event it accepts once, and none it does not', async () => {
      const { notifier } = harness;
      let expected = await harness.delivered();
      for (const event of sampleNotificationEvents()) {
        const accepted = notifier.accepts?.(event) ?? true;
        if (accepted) {
          await notifier.notify(event);
          expected++;
        }
        expect(await harness.delivered(), event.kind).toBe(expected);
      }
      if (harness.received) noSecrets(await harness.received());
    });

    it('a cancelled notification is refused and sends nothing', async () => {
      const before = await harness.delivered();
      const controller = new AbortController();
      controller.abort();
      const [, , , test] = sampleNotificationEvents();
      await expect(harness.notifier.notify(test!, { signal: controller.signal })).rejects.toThrow();
      expect(await harness.delivered()).toBe(before);
    });

    it('a receiver that refuses is an error without secrets', async () => {
      if (!harness.failing) return;
      const failing = await harness.failing();
      try {
        const [, , , test] = sampleNotificationEvents();
        const error = await failing.notify(test!).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        noSecrets(String((error as Error).message));
        noSecrets(JSON.stringify(error));
      } finally {
        await failing.close?.();
      }
    });

    it('its health checks, when it has them, are well formed and without secrets', async () => {
      if (!harness.notifier.health) return;
      for (const check of await harness.notifier.health()) {
        expect(HEALTH_STATUSES).toContain(check.status);
        expect(check.name.length).toBeGreaterThan(0);
        noSecrets(JSON.stringify(check));
      }
    });
  });
}
