/**
 * A lexer for the scripts Lifeboat writes (pre-data.sql, post-data.sql): enough SQL to find
 * where each statement starts and ends (quotes, dollar quotes, comments, parentheses) and to read
 * its leading words, so a restore can leave statements out by what they are. Text is kept as
 * written: joining every piece gives the script back.
 */

export interface ScriptStatement {
  /** Comments and blank space before the statement (marker lines live here: always kept). */
  lead: string;
  /** The statement itself, up to and with its semicolon. */
  body: string;
}

export interface SplitScript {
  statements: ScriptStatement[];
  /** What follows the last semicolon (comments, space). */
  tail: string;
}

const isIdentChar = (c: string | undefined) =>
  c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** The index just past the quoted text starting at `i` (a `'`, `"`, `$tag$` or comment). */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i]!;
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    let depth = 1;
    let j = i + 2;
    while (j < sql.length && depth > 0) {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        depth++;
        j += 2;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        depth--;
        j += 2;
      } else j++;
    }
    return j;
  }
  if (c === "'" || c === '"') {
    // E'…' strings escape with backslashes; the others double the quote.
    const escapes = c === "'" && /[Ee]/.test(sql[i - 1] ?? '') && !isIdentChar(sql[i - 2]);
    let j = i + 1;
    while (j < sql.length) {
      if (escapes && sql[j] === '\\') j += 2;
      else if (sql[j] === c) {
        if (sql[j + 1] === c) j += 2;
        else return j + 1;
      } else j++;
    }
    return j;
  }
  // $tag$ … $tag$
  const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(
    sql.slice(i, i + 64),
  );
  if (!tag) return i + 1;
  const end = sql.indexOf(tag[0], i + tag[0].length);
  return end < 0 ? sql.length : end + tag[0].length;
}

/** Whether a quoted piece (or comment) starts at `i`. */
function quoteStarts(sql: string, i: number): boolean {
  const c = sql[i];
  if (c === "'" || c === '"') return true;
  if (c === '-' && sql[i + 1] === '-') return true;
  if (c === '/' && sql[i + 1] === '*') return true;
  return (
    c === '$' &&
    !isIdentChar(sql[i - 1]) &&
    /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))
  );
}

/** Cuts a script into statements at top-level semicolons. */
export function splitStatements(sql: string): SplitScript {
  const statements: ScriptStatement[] = [];
  let start = 0;
  let bodyStart = -1;
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const comment = (c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '*');
    if (quoteStarts(sql, i)) {
      if (!comment && bodyStart < 0) bodyStart = i;
      i = skipQuoted(sql, i);
      continue;
    }
    if (!/\s/.test(c) && bodyStart < 0) bodyStart = i;
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ';' && depth === 0) {
      statements.push({ lead: sql.slice(start, bodyStart), body: sql.slice(bodyStart, i + 1) });
      start = i + 1;
      bodyStart = -1;
    }
    i++;
  }
  return { statements, tail: sql.slice(start) };
}

export type Token =
  | { type: 'word'; text: string }
  | { type: 'ident'; text: string }
  | { type: 'string'; text: string }
  | { type: 'symbol'; text: string };

/**
 * The tokens of one statement: bare words (as written; compare upper-cased), quoted identifiers
 * and string literals (unquoted), symbols. Comments are dropped.
 */
export function tokenize(sql: string, limit = Number.POSITIVE_INFINITY): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length && tokens.length < limit) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (quoteStarts(sql, i)) {
      const end = skipQuoted(sql, i);
      const raw = sql.slice(i, end);
      if (c === '"') tokens.push({ type: 'ident', text: raw.slice(1, -1).replaceAll('""', '"') });
      else if (c === "'")
        tokens.push({ type: 'string', text: raw.slice(1, -1).replaceAll("''", "'") });
      else if (c === '$') {
        const tag = raw.slice(0, raw.indexOf('$', 1) + 1);
        tokens.push({ type: 'string', text: raw.slice(tag.length, raw.length - tag.length) });
      }
      i = end;
      continue;
    }
    if (isIdentChar(c)) {
      let j = i;
      while (isIdentChar(sql[j])) j++;
      // E'…': the E is the string's prefix, not a word.
      if (j === i + 1 && /[Ee]/.test(c) && sql[j] === "'") {
        const end = skipQuoted(sql, j);
        tokens.push({ type: 'string', text: sql.slice(j + 1, end - 1) });
        i = end;
        continue;
      }
      tokens.push({ type: 'word', text: sql.slice(i, j) });
      i = j;
      continue;
    }
    tokens.push({ type: 'symbol', text: c });
    i++;
  }
  return tokens;
}
