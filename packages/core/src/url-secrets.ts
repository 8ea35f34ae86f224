import { registerSecret } from './redact.js';

/**
 * Webhook and heartbeat URLs carry their credentials in the path or the query string
 * (`https://hc-ping.com/<uuid>`, `https://hooks.slack.com/services/T…/B…/<token>`,
 * `…/api/push/<token>?status=up`, `https://ntfy.sh/<secret topic>`). Such a URL is shown as its
 * origin only, and every part that could be a token is registered with `redact`, so an error
 * message that quotes the URL loses the token too.
 */

/** A path segment or query value that may be a credential: long, or holding a digit. */
const tokenLike = (part: string) => part.length >= 4 && (part.length >= 16 || /\d/.test(part));

/** The parts of a URL that may be credentials: password, token-like path segments, query values. */
export function urlTokens(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const tokens: string[] = [];
  if (parsed.password) tokens.push(parsed.password, decodeURIComponent(parsed.password));
  const path = parsed.pathname.replace(/^\/+|\/+$/g, '');
  if (path) tokens.push(path);
  for (const segment of path.split('/')) {
    if (tokenLike(segment)) tokens.push(segment, decodeURIComponent(segment));
  }
  for (const [, value] of parsed.searchParams) if (value.length >= 4) tokens.push(value);
  return [...new Set(tokens)].filter((t) => t.length >= 4);
}

/** Registers every part of `url` that may be a credential, so `redact` hides it everywhere. */
export function registerUrlSecrets(url: string | undefined): void {
  if (!url) return;
  registerSecret(url);
  for (const token of urlTokens(url)) registerSecret(token);
}

/** The URL as it may be shown: scheme, host and port, the rest hidden (`https://hc-ping.com/***`). */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname.replace(/^\/+/, '') || parsed.search ? '/***' : '';
    return `${parsed.protocol}//${parsed.host}${rest}`;
  } catch {
    return 'an invalid URL';
  }
}

/**
 * Whether the URL would send a credential in clear: plain `http://` with a password, a query
 * value, or a token-like path segment.
 */
export function sendsTokenInClear(url: string): boolean {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') return false;
    return (
      parsed.password !== '' ||
      [...parsed.searchParams.values()].some((v) => v.length >= 4) ||
      parsed.pathname.split('/').some(tokenLike)
    );
  } catch {
    return false;
  }
}
