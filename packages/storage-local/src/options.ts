import { hostHint } from '@lifeboat/core';
import { z } from 'zod';

export const localStorageOptionsSchema = z
  .object({
    /** The folder archives are kept in. */
    dir: z.string().min(1, { error: () => `${hostHint('local:dir', 'dir')} must name a folder` }),
    /** Mode of the folders Lifeboat creates. */
    dirMode: z.number().int().min(0).max(0o777).default(0o700),
    /** Mode of every archive and record. */
    fileMode: z.number().int().min(0).max(0o777).default(0o600),
    /** Temporary files of other hosts (or reused pids) older than this are removed on connect. */
    staleTempMs: z
      .number()
      .int()
      .positive()
      .default(24 * 3600 * 1000),
    /**
     * Every file-system step (a folder listed, a file opened, synced or renamed) fails with
     * STORAGE_TIMEOUT after this long, so a hung network mount fails a command instead of hanging it.
     */
    timeoutMs: z.number().int().positive().default(120_000),
    /** Called with a warning (a folder readable by others, leftovers cleaned). */
    onWarning: z
      .custom<(code: string, message: string) => void>((v) => typeof v === 'function')
      .optional(),
  })
  .strict();

export type LocalStorageOptions = z.input<typeof localStorageOptionsSchema>;
