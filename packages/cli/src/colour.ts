/** ANSI colour for one output stream, as most command-line tools decide it. */
export interface Paint {
  enabled: boolean;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  bold(text: string): string;
}

/**
 * Colour when the stream is a terminal; `NO_COLOR` (any value, https://no-color.org) turns it off,
 * `FORCE_COLOR` (other than `0`/`false`) turns it on even on a pipe. `TERM=dumb` gets none.
 */
export function colourEnabled(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const sgr = (on: boolean, open: number, close: number) => (text: string) =>
  on ? `\x1b[${open}m${text}\x1b[${close}m` : text;

export function paint(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  const on = colourEnabled(stream, env);
  return {
    enabled: on,
    red: sgr(on, 31, 39),
    yellow: sgr(on, 33, 39),
    green: sgr(on, 32, 39),
    bold: sgr(on, 1, 22),
  };
}

/** Colours a status word by what it means (OK green, WARNING yellow, CRITICAL/FAILED red). */
export function statusWord(p: Paint, word: string): string {
  const upper = word.toUpperCase();
  if (['OK', 'DELIVERED', 'SENT'].includes(upper)) return p.green(word);
  if (['WARNING', 'WARN', 'FINDING', 'CANCELLED', 'UNKNOWN'].includes(upper)) return p.yellow(word);
  if (['CRITICAL', 'FAILED', 'ERROR', 'PROBLEMS'].includes(upper) || upper.startsWith('FAILED'))
    return p.red(word);
  return word;
}
