import { constants } from 'node:os';
import { LifeboatError } from '@lifeboat/core';

export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM; the engine stops and cleans up through it. */
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | undefined;
  /** The shell's exit code for the received signal: 128 + its number (130, 143). */
  exitCode(): number;
  dispose(): void;
}

const HANDLED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const SAME_EVENT_MS = 300;

/**
 * Turns Ctrl-C and SIGTERM into an abort of the running operation, so it removes its partial
 * archive and its lock and records the run before the process ends. A second signal ends the
 * process at once (an operator who presses Ctrl-C twice means it).
 */
export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const codeOf = (s: NodeJS.Signals) => 128 + (constants.signals[s] ?? 0);
  let at = 0;
  const handler = (s: NodeJS.Signals) => {
    if (received) {
      // The same signal twice within a moment is one event delivered twice: Ctrl-C reaches
      // both the command and the process waiting on it under a memory limit (small-malloc.ts),
      // which passes it on; so does a supervisor signalling the whole group.
      if (s === received && performance.now() - at < SAME_EVENT_MS) return;
      process.exit(codeOf(received));
    }
    received = s;
    at = performance.now();
    controller.abort(
      new LifeboatError('ABORTED', `Cancelled by ${s}`, { hint: 'Run it again when ready.' }),
    );
  };
  for (const s of HANDLED) process.on(s, handler);
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => (received ? codeOf(received) : 0),
    dispose: () => {
      for (const s of HANDLED) process.off(s, handler);
    },
  };
}
