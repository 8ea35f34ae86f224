import type { PgClient } from '../connection.js';
import { type ConnectionTarget, describeTarget } from '../options.js';
import { createSpare } from '../spare.js';

/**
 * A partial restore's check hands its connection to the restore that follows on the same
 * section summary (the engine checks, confirms, then restores): one connection less, which on
 * a local server is most of what a one-table restore waits for. It is kept as a backup's
 * checked connection is (spare.ts): one that nobody takes within HANDOVER_MS (the restore was
 * refused, or a confirmation took that long) is closed, one that failed or ended is not handed
 * over, and while it waits it keeps no process alive.
 */
const HANDOVER_MS = 5000;
const parked = new WeakMap<object, { target: string; spare: ReturnType<typeof createSpare> }>();

export function park(summary: object, target: ConnectionTarget, client: PgClient): void {
  // A new check replaces what an earlier one left.
  void parked.get(summary)?.spare.close();
  const spare = createSpare(HANDOVER_MS);
  spare.keep(client);
  parked.set(summary, { target: describeTarget(target), spare });
}

/** The connection the check left for this summary and target, if it is still open. */
export function takeParked(summary: object, target: ConnectionTarget): PgClient | undefined {
  const entry = parked.get(summary);
  if (!entry) return undefined;
  parked.delete(summary);
  if (entry.target !== describeTarget(target)) {
    void entry.spare.close();
    return undefined;
  }
  return entry.spare.take();
}
