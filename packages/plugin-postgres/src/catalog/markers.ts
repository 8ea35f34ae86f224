import { randomBytes } from 'node:crypto';

/**
 * A restore cuts its scripts at marker comment lines (batches, parallel statements, commit
 * points). Names, comments, defaults and function bodies come from the database and may hold
 * any text, a marker line included: each script carries a random token on its first line, made
 * when the backup ran, and only markers with that token count. A script without one (an older
 * archive) is not cut at all.
 */
export interface Markers {
  /** The script's first line. */
  line: string;
  batch: string;
  parallel: string;
  parallelEnd: string;
  fk: string;
  fkEnd: string;
  commitPoint: string;
}

const TOKEN_LINE = '-- lifeboat:token ';

function markers(token: string): Markers {
  return {
    line: `${TOKEN_LINE}${token}\n`,
    batch: `-- lifeboat:${token}:batch\n`,
    parallel: `-- lifeboat:${token}:parallel `,
    parallelEnd: `-- lifeboat:${token}:parallel-end\n`,
    fk: `-- lifeboat:${token}:parallel-fk `,
    fkEnd: `-- lifeboat:${token}:parallel-fk-end\n`,
    commitPoint: `-- lifeboat:${token}:commit-point\n`,
  };
}

/** Markers for a new script, with a token nobody could have put into the database before. */
export const newMarkers = (): Markers => markers(randomBytes(12).toString('hex'));

/** The markers a script was written with, read from its first line. */
export function markersOf(sql: string): Markers | undefined {
  if (!sql.startsWith(TOKEN_LINE)) return undefined;
  const token = sql.slice(TOKEN_LINE.length, sql.indexOf('\n'));
  return /^[0-9a-f]{24}$/.test(token) ? markers(token) : undefined;
}
