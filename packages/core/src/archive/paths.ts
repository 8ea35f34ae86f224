import { LifeboatError } from '../errors.js';

/**
 * Encodes a name that comes from outside (a table or schema name) into one safe path segment:
 * every byte outside [A-Za-z0-9_-] becomes %XX, so the result never holds `/`, `.`, `..` or a
 * control character, and decoding gives the exact name back.
 */
export function encodeSegment(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '%' : out;
}

export function decodeSegment(segment: string): string {
  if (segment === '%') return '';
  return Buffer.from(
    segment.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    ),
    'latin1',
  ).toString('utf8');
}

/**
 * Checks an archive entry path: relative, `/`-separated, no empty, `.` or `..` segment, no
 * backslash or NUL. Throws UNSAFE_PATH otherwise. Returns the path without a trailing slash.
 */
export function assertSafeEntryPath(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const bad =
    trimmed.length === 0 ||
    trimmed.startsWith('/') ||
    /^[A-Za-z]:/.test(trimmed) ||
    trimmed.includes('\\') ||
    trimmed.includes('\0') ||
    trimmed.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new LifeboatError('UNSAFE_PATH', `Archive entry "${path}" is not a safe relative path`, {
      details: { path },
    });
  }
  return trimmed;
}

/**
 * Checks that a symlink at `linkPath` pointing to `target` stays inside the top folder of the
 * link (its section's subtree, for example `config/ssl`). Throws UNSAFE_PATH otherwise.
 */
export function assertSafeLink(linkPath: string, target: string, root: string): void {
  if (target.startsWith('/') || target.includes('\\') || target.includes('\0') || target === '') {
    throw new LifeboatError(
      'UNSAFE_PATH',
      `Link "${linkPath}" points to "${target}", outside the archive`,
    );
  }
  const parts = linkPath.split('/').slice(0, -1);
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) {
        throw new LifeboatError(
          'UNSAFE_PATH',
          `Link "${linkPath}" points to "${target}", outside the archive`,
        );
      }
      parts.pop();
    } else parts.push(segment);
  }
  const resolved = parts.join('/');
  if (!(resolved === root || resolved.startsWith(`${root}/`))) {
    throw new LifeboatError(
      'UNSAFE_PATH',
      `Link "${linkPath}" points to "${target}", outside "${root}/"`,
      { details: { path: linkPath, target } },
    );
  }
}
