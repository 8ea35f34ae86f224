/**
 * Removes secrets from text before it reaches a log, an error message, an e-mail or JSON output.
 * Known secret values are replaced wherever they appear; connection strings lose their password.
 */
const registered = new Set<string>();

/**
 * Shorter secrets of letters and digits are hidden only where they stand alone, so `ab` does not
 * blank every word that holds it.
 */
const SUBSTRING_MIN = 4;

/** Registers a secret value so every later `redact` call hides it. */
export function registerSecret(value: string | undefined | null): void {
  if (value) registered.add(value);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `scheme://user:password@host`: the password runs to the LAST `@` before the path, so a raw
 * `@` inside it (`u:p@ss@h`) is hidden whole.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/)([^:/?#\s]*):([^\s/?#]*)@/gi;
/** `password=x`, `password = 'a b'` (libpq keyword strings), `PGPASSWORD=x`, `SMTP_PASS=x`. */
const KEYWORD_SECRET =
  /(password|passwd|pass|secret|pwd|secret_access_key|token)(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&;'"]+)/gi;
/** age identities: X25519 (`AGE-SECRET-KEY-1…`), post-quantum (`AGE-SECRET-KEY-PQ-1…`), plugins. */
const AGE_IDENTITY = /AGE-(?:SECRET-KEY|PLUGIN)-[0-9A-Z-]*/gi;

export function redact(text: string, extraSecrets: Iterable<string> = []): string {
  let out = text.replace(URL_PASSWORD, '$1$2:***@');
  out = out.replace(KEYWORD_SECRET, (_, key: string, eq: string, value: string) => {
    const quote = value.startsWith("'") || value.startsWith('"') ? value[0] : '';
    return `${key}${eq}${quote}***${quote}`;
  });
  out = out.replace(AGE_IDENTITY, 'AGE-SECRET-KEY-***');
  const secrets = [...new Set([...registered, ...extraSecrets])]
    .filter((s) => s !== '')
    // Longest first: a secret that contains another is hidden whole.
    .sort((a, b) => b.length - a.length);
  for (const secret of secrets) {
    if (secret.length >= SUBSTRING_MIN || !/^[\p{L}\p{N}]+$/u.test(secret)) {
      out = out.split(secret).join('***');
    } else {
      out = out.replace(
        new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(secret)}(?![\\p{L}\\p{N}])`, 'gu'),
        '***',
      );
    }
  }
  return out;
}

/** Redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T, extraSecrets: Iterable<string> = []): T {
  const extras = [...extraSecrets];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v, extras);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
