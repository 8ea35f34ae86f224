/**
 * Removes secrets from text before it reaches a log, an error message, an e-mail or JSON output.
 * Known secret values are replaced wherever they appear; connection strings lose their password.
 */
const registered = new Set<string>();

/** Registers a secret value so every later `redact` call hides it. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) registered.add(value);
}

export function redact(text: string, extraSecrets: Iterable<string> = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^:/@\s]*):([^@\s]*)@/gi, '$1$2:***@');
  out = out.replace(/(password|passwd|pass|secret|pwd)=([^\s&;'"]+)/gi, '$1=***');
  out = out.replace(/AGE-SECRET-KEY-1[0-9A-Z]+/g, 'AGE-SECRET-KEY-***');
  for (const secret of [...registered, ...extraSecrets]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
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
