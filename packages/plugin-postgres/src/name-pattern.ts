import { LifeboatError } from '@lifeboat/core';

/**
 * A name pattern as pg_dump reads one (`-n`, `-t`, `--filter`): outside double quotes letters
 * are folded to lower case, `*` matches any text and `?` one character, and a dot separates a
 * schema from a name; inside double quotes everything is literal (`""` is a quote). Other
 * characters match themselves.
 */
export interface NamePattern {
  text: string;
  /** For a qualified pattern (`s.t`); undefined: any schema the rule allows. */
  schema?: RegExp;
  name: RegExp;
}

/** A character matched as itself. */
const literal = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

export function parseNamePattern(text: string, maxParts = 2): NamePattern {
  const parts: string[] = [''];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (quoted && text[i + 1] === '"') {
        parts[parts.length - 1] += '"';
        i++;
      } else quoted = !quoted;
    } else if (quoted) parts[parts.length - 1] += literal(c);
    else if (c === '.') parts.push('');
    else if (c === '*') parts[parts.length - 1] += '.*';
    else if (c === '?') parts[parts.length - 1] += '.';
    else parts[parts.length - 1] += literal(c.toLowerCase());
  }
  if (quoted || parts.length > maxParts || parts.some((p) => p === '')) {
    throw new LifeboatError('CONFIG_INVALID', `Invalid name pattern: ${text}`, {
      hint: maxParts === 1 ? 'a schema pattern is one name' : 'write name or schema.name',
    });
  }
  const anchored = (p: string) => new RegExp(`^(?:${p})$`, 's');
  return parts.length === 2
    ? { text, schema: anchored(parts[0]!), name: anchored(parts[1]!) }
    : { text, name: anchored(parts[0]!) };
}

/** Whether a schema name matches one of the (one-part) patterns. */
export const schemaMatches = (schema: string, patterns: readonly NamePattern[]) =>
  patterns.some((p) => p.name.test(schema));

/**
 * Whether a table matches: `s.t` patterns by both parts; a pattern without a schema matches in
 * `public` (where an unqualified name resolves on a default search_path, as for pg_dump).
 */
export const tableMatches = (
  table: { schema: string; table: string },
  patterns: readonly NamePattern[],
) =>
  patterns.some((p) =>
    p.schema
      ? p.schema.test(table.schema) && p.name.test(table.table)
      : table.schema === 'public' && p.name.test(table.table),
  );
