import { closeQuietly, type PgClient } from '../connection.js';
import { type ConnectionTarget, describeTarget } from '../options.js';

/**
 * A partial restore's check hands its connection to the restore that follows on the same
 * section summary (the engine checks, confirms, then restores): one connection less, which on
 * a local server is most of what a one-table restore waits for. One that nobody takes within
 * HANDOVER_MS (the restore was refused, or a confirmation took that long) is closed; while it
 * waits it keeps no process alive.
 */
const HANDOVER_MS = 5000;
const parked = new WeakMap<object, { target: string; client: PgClient; timer: NodeJS.Timeout }>();

/** The socket under a pg client (no public accessor; absent on a client that never connected). */
const socketOf = (client: PgClient) =>
  (client as unknown as { connection?: { stream?: { ref?(): void; unref?(): void } } }).connection
    ?.stream;

export function park(summary: object, target: ConnectionTarget, client: PgClient): void {
  release(summary);
  const drop = () => {
    if (parked.get(summary)?.client !== client) return;
    clearTimeout(entry.timer);
    parked.delete(summary);
  };
  const entry = {
    target: describeTarget(target),
    client,
    timer: setTimeout(() => {
      drop();
      void closeQuietly(client);
    }, HANDOVER_MS),
  };
  entry.timer.unref();
  // Closed by the server meanwhile: not handed over.
  client.once('end', drop);
  socketOf(client)?.unref?.();
  parked.set(summary, entry);
}

/** The connection the check left for this summary and target, if it is still open. */
export function takeParked(summary: object, target: ConnectionTarget): PgClient | undefined {
  const entry = parked.get(summary);
  if (!entry) return undefined;
  parked.delete(summary);
  clearTimeout(entry.timer);
  if (entry.target !== describeTarget(target)) {
    void closeQuietly(entry.client);
    return undefined;
  }
  socketOf(entry.client)?.ref?.();
  return entry.client;
}

/** Closes what was left for this summary (a new check replaces it). */
function release(summary: object): void {
  const entry = parked.get(summary);
  if (!entry) return;
  parked.delete(summary);
  clearTimeout(entry.timer);
  void closeQuietly(entry.client);
}
