import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** This process's pid namespace (`pid:[4026531836]`), where the system tells it. */
export const PID_NAMESPACE: string | undefined = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/**
 * Whether the process that wrote a record (a lock, a temporary file) is known to be gone: only
 * a process on this host, in this pid namespace (a container's pid 7 is not the host's pid 7),
 * other than this one, that the system says does not exist (ESRCH). Anything unsure is "not gone".
 */
export function processGone(owner: { host: string; pid: number; pidNamespace?: string }): boolean {
  if (owner.host !== hostname() || !owner.pid) return false;
  if (owner.pidNamespace && PID_NAMESPACE && owner.pidNamespace !== PID_NAMESPACE) return false;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
