import { type ErrorCode, LifeboatError } from '@lifeboat/core';

/** NAMEDATALEN - 1: the server silently cuts longer identifiers to this many bytes. */
export const NAME_MAX_BYTES = 63;

/** The name the server would use: cut to 63 bytes of UTF-8, at a character boundary. */
export function serverName(name: string): string {
  if (Buffer.byteLength(name) <= NAME_MAX_BYTES) return name;
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > NAME_MAX_BYTES) break;
    out += ch;
  }
  return out;
}

/**
 * Refuses a name the server would cut: the cut name is another object's (`--as-suffix` on a
 * 63-byte table name is the live table's name, which `--clean` would drop).
 */
export function refuseLongName(
  name: string,
  what: string,
  hint: string,
  code: ErrorCode = 'CONFIG_INVALID',
): void {
  const bytes = Buffer.byteLength(name);
  if (bytes <= NAME_MAX_BYTES) return;
  throw new LifeboatError(
    code,
    `The ${what} "${name}" is ${bytes} bytes long: PostgreSQL cuts names to ${NAME_MAX_BYTES} bytes, which would make it "${serverName(name)}"`,
    { hint },
  );
}
