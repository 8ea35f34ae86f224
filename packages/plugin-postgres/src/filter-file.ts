import { LifeboatError } from '@lifeboat/core';

/** One line of a filter file in pg_dump's `--filter` syntax. */
export interface FilterRule {
  action: 'include' | 'exclude';
  object: 'table' | 'schema' | 'table_data';
  pattern: string;
}

const OBJECTS = ['table', 'schema', 'table_data'] as const;

/** The pattern at `i`: up to unquoted white space or `#`; quoted parts may hold both. */
function readPattern(line: string, i: number): { pattern: string; end: number } {
  let j = i;
  let quoted = false;
  while (j < line.length) {
    const c = line[j]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (/\s/.test(c) || c === '#')) break;
    j++;
  }
  return { pattern: line.slice(i, j), end: j };
}

/**
 * Reads a filter file (`include|exclude table|schema|table_data PATTERN`, one a line; `#`
 * starts a comment; blank lines are ignored). `where` names the file in errors; every bad line
 * is reported at once.
 */
export function parseFilterFile(text: string, where: string): FilterRule[] {
  const rules: FilterRule[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const head = /^(\S+)\s+(\S+)\s+/.exec(line);
    const action = head?.[1]?.toLowerCase();
    const object = head?.[2]?.toLowerCase();
    if (!head || (action !== 'include' && action !== 'exclude')) {
      problems.push(
        `line ${index + 1}: expected "include" or "exclude", then an object type and a pattern`,
      );
      return;
    }
    if (!OBJECTS.includes(object as (typeof OBJECTS)[number])) {
      problems.push(
        `line ${index + 1}: unsupported object type "${head[2]}" (use ${OBJECTS.join(', ')})`,
      );
      return;
    }
    if (action === 'include' && object === 'table_data') {
      problems.push(
        `line ${index + 1}: "include table_data" is not a filter (pg_dump has only exclude)`,
      );
      return;
    }
    const { pattern, end } = readPattern(line, head[0].length);
    const rest = line.slice(end).trim();
    if (pattern === '' || (rest !== '' && !rest.startsWith('#'))) {
      problems.push(`line ${index + 1}: expected one pattern after "${head[1]} ${head[2]}"`);
      return;
    }
    rules.push({ action, object: object as FilterRule['object'], pattern });
  });
  if (problems.length > 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `Invalid filter file ${where}: ${problems.join('; ')}`,
      {
        hint: 'lines read "include table PATTERN", "exclude schema PATTERN", "exclude table_data PATTERN"; # starts a comment',
      },
    );
  }
  return rules;
}
