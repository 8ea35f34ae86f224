import { GUARD_MARK } from '../catalog/step-guard.js';
import { type Token, tokenize } from './statements.js';

/**
 * What one statement of a Lifeboat script is, as far as restore-time choices care: its kind and
 * the schema (and relation) of the object it is about. `schema: null`: an object outside any
 * schema (an extension, a publication); `undefined`: a statement this reader cannot place.
 */
export interface StatementPlace {
  kind:
    | 'setting'
    | 'owner'
    | 'privilege'
    | 'policy'
    | 'row-security'
    | 'comment'
    | 'publication'
    | 'subscription'
    | 'schema'
    | 'sequence-value'
    | 'object';
  schema?: string | null;
  relation?: string;
  /** A comment's object is a policy: it goes with the policies. */
  onPolicy?: boolean;
  /**
   * An owner or a comment of a publication or subscription: it goes with them, and also with
   * the owners (`--no-owner`) or the comments (`--no-comments`), as pg_restore leaves them out.
   */
  replication?: 'publication' | 'subscription';
}

/** Words between a verb and the object's name: `CREATE OR REPLACE MATERIALIZED VIEW`… */
const KIND_WORDS = new Set(
  `OR REPLACE UNLOGGED TEMPORARY TEMP MATERIALIZED RECURSIVE TABLE VIEW SEQUENCE TYPE DOMAIN
  FUNCTION PROCEDURE AGGREGATE STATISTICS COLLATION CONVERSION OPERATOR CLASS FAMILY TEXT SEARCH
  PARSER DICTIONARY TEMPLATE CONFIGURATION FOREIGN DEFAULT IF NOT EXISTS ONLY CONSTRAINT ROUTINE
  LARGE OBJECT COLUMN INDEX`
    .split(/\s+/)
    .filter(Boolean),
);

const word = (t: Token | undefined, ...words: string[]) =>
  t?.type === 'word' && words.includes(t.text.toUpperCase());

const isName = (t: Token | undefined) => t?.type === 'ident' || t?.type === 'word';
/** A bare identifier is folded to lower case, as the server reads it. */
const nameOf = (t: Token) => (t.type === 'word' ? t.text.toLowerCase() : t.text);

/** A character an operator's name is made of. */
const OPERATOR_CHAR = /^[-+*/<>=~!@#%^&|`?]$/;

/** Reads `a`, `a.b` or `a.b.c` at `at`; of an operator (`s.<>`), the schema and its first character. */
function qualifiedAt(tokens: Token[], at: number): string[] | undefined {
  if (!isName(tokens[at])) return undefined;
  const parts = [nameOf(tokens[at]!)];
  let i = at + 1;
  while (tokens[i]?.type === 'symbol' && tokens[i]!.text === '.') {
    const next = tokens[i + 1];
    if (!isName(next)) {
      if (next?.type === 'symbol' && OPERATOR_CHAR.test(next.text)) parts.push(next.text);
      break;
    }
    parts.push(nameOf(next!));
    i += 2;
  }
  return parts;
}

/** The schema of an object named by a qualified name (`s.t`, or `s.t.c` for a column). */
const placeOf = (parts: string[] | undefined, column = false) => {
  if (!parts) return {};
  const need = column ? 3 : 2;
  if (parts.length < need) return {};
  return { schema: parts[0]!, relation: parts[1]! };
};

/** Skips kind words from `at`; the index of the name that follows. */
function skipKindWords(tokens: Token[], at: number): number {
  let i = at;
  while (tokens[i]?.type === 'word' && KIND_WORDS.has(tokens[i]!.text.toUpperCase())) i++;
  return i;
}

/** `ON [ONLY] name` (or `TO name` for rules): the relation a sub-object belongs to. */
function onRelation(tokens: Token[], from: number, keyword = 'ON') {
  for (let i = from; i < tokens.length; i++) {
    if (word(tokens[i], keyword)) {
      let j = i + 1;
      if (word(tokens[j], 'ONLY', 'DOMAIN', 'TABLE')) j++;
      return placeOf(qualifiedAt(tokens, j));
    }
  }
  return {};
}

/** `TABLE "s"."t"`, `SCHEMA "s"`, `FUNCTION "s"."f"(int)`: where a target text points. */
function targetPlace(text: string): {
  schema?: string | null;
  relation?: string;
  isSchema?: boolean;
} {
  const tokens = tokenize(text, 16);
  if (word(tokens[0], 'SCHEMA')) {
    const parts = qualifiedAt(tokens, 1);
    return parts ? { schema: parts[0]!, isSchema: true } : {};
  }
  if (word(tokens[0], 'PUBLICATION', 'SUBSCRIPTION', 'EXTENSION', 'LANGUAGE', 'SERVER', 'LARGE'))
    return { schema: null };
  if (word(tokens[0], 'FOREIGN') && word(tokens[1], 'DATA')) return { schema: null };
  return placeOf(qualifiedAt(tokens, skipKindWords(tokens, 0)));
}

/** A privilege block (`DO '… GRANT … ON TABLE s.t …'`) or a policy block, by its body. */
function doBlockPlace(body: string): StatementPlace | undefined {
  // A post-data step run only where safe (step-guard.ts): it goes where its statement goes.
  if (body.startsWith(GUARD_MARK)) {
    const tokens = tokenize(body);
    const at = tokens.findLastIndex((t) => word(t, 'EXECUTE'));
    const statement = tokens[at + 1];
    if (at >= 0 && statement?.type === 'string') return placeStatement(statement.text);
  }
  // The report of owners pre-data could not give (OWNER_REPORT).
  if (body.includes('lifeboat.owners_skipped')) return { kind: 'setting' };
  const systemAcl = /SYSTEM_ACL_FAILED: privileges ON (.+?)(?: \([^)]*\))?: '/.exec(
    body.replaceAll("''", "'"),
  );
  if (systemAcl) return { kind: 'privilege', ...targetPlace(systemAcl[1]!) };
  if (body.includes('GRANT_FAILED: ')) {
    const statement = /(?:^BEGIN | END IF; )((?:GRANT|REVOKE) .*?); EXCEPTION WHEN OTHERS /s.exec(
      body,
    );
    if (!statement) return { kind: 'privilege' };
    const tokens = tokenize(statement[1]!);
    const on = tokens.findIndex((t) => word(t, 'ON'));
    if (on < 0) return { kind: 'privilege' };
    const rest = statement[1]!.slice(statement[1]!.search(/ ON /) + 4);
    return { kind: 'privilege', ...targetPlace(rest) };
  }
  if (body.includes('DEFAULT_PRIVILEGES_FAILED: ')) {
    const inSchema =
      /ALTER DEFAULT PRIVILEGES [^;]*? IN SCHEMA ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)/.exec(body);
    const schema = inSchema ? (tokenize(inSchema[1]!)[0]?.text ?? null) : null;
    return { kind: 'privilege', schema };
  }
  const policy = /EXECUTE '(CREATE POLICY (?:[^']|'')*)'/.exec(body);
  if (policy) {
    const tokens = tokenize(policy[1]!.replaceAll("''", "'"));
    return { kind: 'policy', ...onRelation(tokens, 2) };
  }
  return undefined;
}

/** A target naming a publication or a subscription (their owners and comments go with them). */
function aboutReplication(target: string): 'publication' | 'subscription' | undefined {
  const [first] = tokenize(target, 1);
  if (word(first, 'PUBLICATION')) return 'publication';
  if (word(first, 'SUBSCRIPTION')) return 'subscription';
  return undefined;
}

/** Where a statement of a Lifeboat script belongs. */
export function placeStatement(sql: string): StatementPlace {
  const tokens = tokenize(sql, 64);
  const [first, second] = tokens;
  if (word(first, 'SET', 'RESET')) return { kind: 'setting' };
  if (word(first, 'SELECT') && tokens[1]?.type === 'word') {
    const fn = tokens
      .slice(1, 4)
      .map((t) => t.text)
      .join('')
      .toLowerCase();
    if (fn === 'pg_catalog.set_config') return { kind: 'setting' };
    // The tablespace of what follows (tablespaces.ts).
    if (fn === 'pg_temp.lifeboat_tablespace') return { kind: 'setting' };
    if (fn === 'pg_temp.lifeboat_owner') {
      const target = tokens[5]?.type === 'string' ? tokens[5].text : '';
      const place = targetPlace(target);
      const about = aboutReplication(target);
      if (about) return { kind: 'owner', schema: null, replication: about };
      return {
        kind: 'owner',
        schema: place.schema,
        ...(place.relation ? { relation: place.relation } : {}),
      };
    }
    // A partition moved to the tablespace selected before it: it goes with its table.
    if (fn === 'pg_temp.lifeboat_partition_tablespace' && tokens[5]?.type === 'string')
      return { kind: 'object', ...placeOf(qualifiedAt(tokenize(tokens[5].text), 0)) };
    if (fn === 'pg_catalog.setval' && tokens[5]?.type === 'string') {
      return { kind: 'sequence-value', ...placeOf(qualifiedAt(tokenize(tokens[5].text), 0)) };
    }
    return { kind: 'object' };
  }
  if (word(first, 'DO')) {
    const body = tokens.find((t) => t.type === 'string');
    const place = body ? doBlockPlace(body.text) : undefined;
    return place ?? { kind: 'object' };
  }
  if (word(first, 'COMMENT') && word(second, 'ON')) {
    if (word(tokens[2], 'SCHEMA')) {
      const parts = qualifiedAt(tokens, 3);
      return { kind: 'comment', ...(parts ? { schema: parts[0]! } : {}) };
    }
    const about = aboutReplication(sql.slice(sql.search(/\bON\b/i) + 3));
    if (about) return { kind: 'comment', schema: null, replication: about };
    if (word(tokens[2], 'EXTENSION', 'LANGUAGE', 'SERVER', 'LARGE'))
      return { kind: 'comment', schema: null };
    if (word(tokens[2], 'CONSTRAINT', 'TRIGGER', 'POLICY', 'RULE'))
      return {
        kind: 'comment',
        ...onRelation(tokens, 4),
        ...(word(tokens[2], 'POLICY') ? { onPolicy: true } : {}),
      };
    if (word(tokens[2], 'COLUMN'))
      return { kind: 'comment', ...placeOf(qualifiedAt(tokens, 3), true) };
    return { kind: 'comment', ...placeOf(qualifiedAt(tokens, skipKindWords(tokens, 2))) };
  }
  if (word(first, 'CREATE') || word(first, 'ALTER')) {
    const verb = first!.text.toUpperCase();
    let i = 1;
    if (word(tokens[i], 'OR') && word(tokens[i + 1], 'REPLACE')) i += 2;
    if (word(tokens[i], 'PUBLICATION')) return { kind: 'publication', schema: null };
    if (word(tokens[i], 'SUBSCRIPTION')) return { kind: 'subscription', schema: null };
    if (word(tokens[i], 'SCHEMA')) {
      const at = word(tokens[i + 1], 'IF') ? i + 4 : i + 1;
      const parts = qualifiedAt(tokens, at);
      return { kind: 'schema', ...(parts ? { schema: parts[0]! } : {}) };
    }
    if (word(tokens[i], 'EXTENSION', 'LANGUAGE', 'SERVER', 'CAST', 'ROLE'))
      return { kind: 'object', schema: null };
    if (word(tokens[i], 'FOREIGN') && word(tokens[i + 1], 'DATA'))
      return { kind: 'object', schema: null };
    if (word(tokens[i], 'EVENT') && word(tokens[i + 1], 'TRIGGER'))
      return { kind: 'object', schema: null };
    if (word(tokens[i], 'POLICY')) return { kind: 'policy', ...onRelation(tokens, i + 2) };
    if (verb === 'CREATE' && word(tokens[i], 'UNIQUE', 'INDEX'))
      return { kind: 'object', ...onRelation(tokens, i + 1) };
    if (verb === 'CREATE' && (word(tokens[i], 'TRIGGER') || word(tokens[i + 1], 'TRIGGER')))
      return { kind: 'object', ...onRelation(tokens, i + 1) };
    if (verb === 'CREATE' && word(tokens[i], 'RULE'))
      return { kind: 'object', ...onRelation(tokens, i + 1, 'TO') };
    if (verb === 'ALTER' && word(tokens[i], 'DEFAULT') && word(tokens[i + 1], 'PRIVILEGES')) {
      const inSchema = tokens.findIndex((t, k) => word(t, 'IN') && word(tokens[k + 1], 'SCHEMA'));
      const parts = inSchema >= 0 ? qualifiedAt(tokens, inSchema + 2) : undefined;
      return { kind: 'privilege', schema: parts ? parts[0]! : null };
    }
    const place = placeOf(qualifiedAt(tokens, skipKindWords(tokens, i)));
    if (
      verb === 'ALTER' &&
      place.schema !== undefined &&
      tokens.some((t, k) => word(t, 'ROW') && word(tokens[k + 1], 'LEVEL'))
    )
      return { kind: 'row-security', ...place };
    return { kind: 'object', ...place };
  }
  if (word(first, 'REFRESH'))
    return { kind: 'object', ...placeOf(qualifiedAt(tokens, skipKindWords(tokens, 2))) };
  if (word(first, 'GRANT', 'REVOKE')) {
    const text = sql.slice(sql.search(/ ON /) + 4);
    return { kind: 'privilege', ...targetPlace(text) };
  }
  if (word(first, 'SECURITY') && word(second, 'LABEL')) return { kind: 'object' };
  return { kind: 'object' };
}
