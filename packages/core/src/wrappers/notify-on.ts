import type { NotificationEvent, Notifier, NotifyCategory } from '../contracts.js';
import { LifeboatError } from '../errors.js';

export const NOTIFY_CATEGORIES = ['failure', 'warning', 'success'] as const;

/**
 * What an event reports: a failed backup or a CRITICAL health check is a failure; a backup stored
 * with warnings, or a WARNING health check, is a warning; a clean backup is a success. Test
 * messages have no category: every notifier gets them.
 */
export function notificationCategory(event: NotificationEvent): NotifyCategory | undefined {
  switch (event.kind) {
    case 'backup:failed':
      return 'failure';
    case 'backup:succeeded':
      return event.result.warnings.length > 0 ? 'warning' : 'success';
    case 'health:alert':
      return event.report.status === 'CRITICAL' ? 'failure' : 'warning';
    case 'test':
      return undefined;
  }
}

/**
 * A notifier that is asked only for the categories in `on` (NOTIFY_ON=failure,warning: failures
 * page, successes stay quiet). Everything else passes through to the wrapped notifier.
 */
export function notifyOn<N extends Notifier>(
  notifier: N,
  on: readonly NotifyCategory[],
): N & Required<Pick<Notifier, 'accepts'>> {
  const unknown = on.filter((c) => !(NOTIFY_CATEGORIES as readonly string[]).includes(c));
  if (unknown.length > 0 || on.length === 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `notifyOn for ${notifier.id}: ${on.length === 0 ? 'no category given' : `unknown ${unknown.map((c) => `"${c}"`).join(', ')}`}; use some of ${NOTIFY_CATEGORIES.join(', ')}`,
    );
  }
  const wanted = new Set(on);
  const inner = notifier.accepts?.bind(notifier);
  const wrapped: Notifier = {
    id: notifier.id,
    describe: () => `${notifier.describe()} (on ${[...wanted].join(', ')})`,
    accepts(event) {
      const category = notificationCategory(event);
      return (category === undefined || wanted.has(category)) && (inner?.(event) ?? true);
    },
    notify: (event, options) => notifier.notify(event, options),
    ...(notifier.health ? { health: () => notifier.health!() } : {}),
    ...(notifier.close ? { close: () => notifier.close!() } : {}),
  };
  return Object.assign(Object.create(notifier) as N, wrapped) as N &
    Required<Pick<Notifier, 'accepts'>>;
}
