import type { LeftOutObject } from '../contracts.js';
import { LifeboatError } from '../errors.js';

/** One line per object, as errors, e-mails and `status` show them. */
export const describeLeftOut = (o: LeftOutObject) => `${o.kind} ${o.name} (${o.reason})`;

/**
 * The backup's failure when a source cannot keep some objects and the setup does not allow an
 * incomplete archive: every object at once, so one run tells the whole story.
 */
export function incompleteError(source: string, objects: LeftOutObject[]): LifeboatError {
  return new LifeboatError(
    'BACKUP_INCOMPLETE',
    `The ${source} source cannot back up ${objects.length} object(s) faithfully, so no archive was written: ${objects.map(describeLeftOut).join('; ')}`,
    { details: { source, objects } },
  );
}
