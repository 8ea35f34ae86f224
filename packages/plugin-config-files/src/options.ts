import { z } from 'zod';

const fileSchema = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      /** Name under `config/`; the file's own name by default. */
      name: z.string().min(1).optional(),
      /** A missing optional file is a warning, not a failed backup. */
      optional: z.boolean().default(false),
    })
    .strict(),
]);

const directorySchema = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      /** Folder name under `config/` (`ssl` for SSL_DIR); the folder's own name by default. */
      name: z.string().min(1).optional(),
      optional: z.boolean().default(false),
    })
    .strict(),
]);

export const configFilesOptionsSchema = z
  .object({
    /** Named files (CONFIG_FILES), archived as `config/<name>`. */
    files: z.array(fileSchema).default([]),
    /** Whole folders (SSL_DIR), archived as `config/<name>/…`. */
    directories: z.array(directorySchema).default([]),
  })
  .strict()
  .refine((o) => o.files.length + o.directories.length > 0, 'name at least one file or folder');

export type ConfigFilesOptions = z.input<typeof configFilesOptionsSchema>;

export interface NamedPath {
  path: string;
  name: string;
  optional: boolean;
}
