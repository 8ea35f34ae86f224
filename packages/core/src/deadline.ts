/**
 * Settles like `work`, or rejects with `late()` once `ms` have passed: a call that may never
 * return (a hung mount, an endpoint that accepts and never answers) becomes an error. The work
 * itself is not cancelled; its late result is ignored.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
