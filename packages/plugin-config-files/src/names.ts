import { basename, resolve } from 'node:path';
import { LifeboatError } from '@lifeboat/core';
import type { NamedPath } from './options.js';

type Item = string | { path: string; name?: string | undefined; optional?: boolean | undefined };

/** Resolves configured files and folders to absolute paths with unique archive names. */
export function resolveNames(
  files: Item[],
  directories: Item[],
): { files: NamedPath[]; directories: NamedPath[] } {
  const used = new Map<string, string>();
  const one = (item: Item): NamedPath => {
    const o = typeof item === 'string' ? { path: item } : item;
    const path = resolve(o.path);
    const name = o.name ?? basename(path);
    // A backslash would be a separator on Windows, and the archive refuses it (UNSAFE_PATH).
    if (
      !name ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\0')
    ) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `"${o.path}" cannot be archived under the name "${name}"`,
      );
    }
    const previous = used.get(name);
    if (previous) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `"${previous}" and "${path}" would both be archived as config/${name}; give one a name`,
      );
    }
    used.set(name, path);
    return { path, name, optional: o.optional ?? false };
  };
  return { files: files.map(one), directories: directories.map(one) };
}

/** Private keys and env files are restored `0600` whatever mode they were archived with. */
export function isPrivate(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return /(^|[._-])(key|privkey)([._-]|$)|\.key$|^\.env/i.test(base) || /private/i.test(base);
}
