import { LifeboatError } from '@lifeboat/core';

/** `--only`: a section restore and verify can be limited to. */
export function checkedOnly(only: string | undefined): string | undefined {
  if (only && only !== 'database' && only !== 'config') {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `--only must be "database" or "config", not "${only}"`,
    );
  }
  return only;
}

/** `--tables a,b`: the names and patterns, as restore and verify read them. */
export const tableList = (tables: string | undefined): string[] =>
  tables
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean) ?? [];
