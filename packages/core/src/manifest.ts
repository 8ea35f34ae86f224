import { z } from 'zod';

export const ARCHIVE_FORMAT = 'lifeboat-archive';
export const ARCHIVE_FORMAT_VERSION = 1;
export const MANIFEST_PATH = 'manifest.json';
export const BACKUP_INFO_PATH = 'BACKUP_INFO.txt';

export const entryLocationSchema = z.object({
  offset: z.number().int().nonnegative(),
  tarBytes: z.number().int().positive(),
  member: z.number().int().nonnegative(),
  inner: z.number().int().nonnegative(),
  end: z.number().int().positive(),
});

export const entryRecordSchema = z.object({
  path: z.string().min(1),
  type: z.enum(['file', 'directory', 'symlink']),
  size: z.number().int().nonnegative(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  mode: z.number().int().nonnegative().optional(),
  mtime: z.string().optional(),
  linkname: z.string().optional(),
  /** See EntryLocation: where a reader can start inflating to read this entry alone. */
  location: entryLocationSchema.optional(),
});

export const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.number().int().positive(),
  tool: z.object({ name: z.string(), version: z.string() }),
  createdAt: z.string(),
  completedAt: z.string(),
  durationMs: z.number().nonnegative(),
  compression: z.object({ algorithm: z.literal('gzip'), level: z.number().int() }),
  sources: z.array(
    z.object({
      id: z.string(),
      section: z.string(),
      summary: z.record(z.string(), z.unknown()),
    }),
  ),
  entries: z.array(entryRecordSchema),
  warnings: z.array(z.object({ code: z.string(), message: z.string() })).default([]),
  /** Objects a source left out (BACKUP_ALLOW_INCOMPLETE): absent or empty in a complete archive. */
  incomplete: z
    .array(z.object({ source: z.string(), kind: z.string(), name: z.string(), reason: z.string() }))
    .optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
