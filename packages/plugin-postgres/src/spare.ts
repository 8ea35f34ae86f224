import { closeQuietly, type PgClient } from './connection.js';

/** How long the check's connection waits for a backup to take it before it is closed. */
export const SPARE_IDLE_MS = 10_000;

type Socket = { ref(): void; unref(): void; destroyed?: boolean };
const socketOf = (client: PgClient) =>
  (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;

/** Closes a kept connection: held by the process again, or it could exit before its end. */
const release = (client: PgClient) => {
  socketOf(client)?.ref();
  return closeQuietly(client);
};

/**
 * A connection a check opened, kept for the work that usually follows at once: a backup's first
 * connection (engine: check, lock, list, back up) and a partial restore's load (handover.ts) cost
 * no second start-up. It holds no transaction and no lock; while kept it does not hold the
 * process open, ends after `idleMs`, and one that failed or ended meanwhile is never handed out.
 */
export function createSpare(idleMs = SPARE_IDLE_MS) {
  let kept: { client: PgClient; timer: NodeJS.Timeout; gone: () => boolean } | undefined;
  const drop = () => {
    const k = kept;
    kept = undefined;
    if (k) clearTimeout(k.timer);
    return k;
  };
  return {
    keep(client: PgClient): void {
      const old = drop();
      if (old) void release(old.client);
      let failed = false;
      const lost = () => {
        failed = true;
      };
      client.once('error', lost);
      client.once('end', lost);
      socketOf(client)?.unref();
      const timer = setTimeout(() => {
        if (kept?.client === client) void release(drop()!.client);
      }, idleMs);
      timer.unref();
      kept = { client, timer, gone: () => failed || socketOf(client)?.destroyed === true };
    },
    /** The kept connection if it is still good (it is then the caller's to close), else undefined. */
    take(): PgClient | undefined {
      const k = drop();
      if (!k) return undefined;
      if (k.gone()) {
        void release(k.client);
        return undefined;
      }
      socketOf(k.client)?.ref();
      return k.client;
    },
    close: async () => {
      const k = drop();
      if (k) await release(k.client);
    },
  };
}
