import { dirname, join } from 'node:path';
import type { NamedPath } from './options.js';

/** Where one name under `config/` is restored. */
export interface Place {
  /**
   * The folder the restore may write below: the configured folder, the configured file's folder,
   * or `--config-dir`. Everything between it and `target` is checked, never followed.
   */
  base: string;
  target: string;
  /** The restored root the name belongs to (`ssl` for `ssl/a/b`): links may not leave it. */
  root: string;
}

export interface Configured {
  files: NamedPath[];
  directories: NamedPath[];
}

export function placeOf(
  name: string,
  configured: Configured,
  targetDir: string | undefined,
): Place | undefined {
  const [top, ...rest] = name.split('/') as [string, ...string[]];
  if (targetDir) return { base: targetDir, target: join(targetDir, ...name.split('/')), root: top };
  const file = configured.files.find((f) => f.name === name);
  if (file) return { base: dirname(file.path), target: file.path, root: top };
  const dir = configured.directories.find((d) => d.name === top);
  return dir ? { base: dir.path, target: join(dir.path, ...rest), root: top } : undefined;
}
