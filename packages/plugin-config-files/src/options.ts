import { z } from 'zod';

/** A file or a folder: its path, or the path with the name it has under `config/`. */
const namedPathSchema = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      /** Name under `config/` (`ssl` for SSL_DIR); its own name by default. */
      name: z.string().min(1).optional(),
      /** A missing optional file or folder is a warning, not a failed backup. */
      optional: z.boolean().default(false),
    })
    .strict(),
]);

export const configFilesOptionsSchema = z
  .object({
    /** Named files (CONFIG_FILES), archived as `config/<name>`. */
    files: z.array(namedPathSchema).default([]),
    /** Whole folders (SSL_DIR), archived as `config/<name>/…`. */
    directories: z.array(namedPathSchema).default([]),
  })
  .strict()
  .refine((o) => o.files.length + o.directories.length > 0, 'name at least one file or folder');

export type ConfigFilesOptions = z.input<typeof configFilesOptionsSchema>;

export interface NamedPath {
  path: string;
  name: string;
  optional: boolean;
}
