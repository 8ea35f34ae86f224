import { parseOptions } from '@lifeboat/core';
import { z } from 'zod';

/**
 * The config-files source's restore options, given under its id
 * (`engine.restore(ref, { 'config-files': { targetDir: '/tmp/cfg' } })`), parsed: they come from a
 * script or the CLI, and a misspelt one must not restore over the live files unasked.
 */
export const configFilesRestoreOptionsSchema = z
  .object({
    /** Restore into this folder instead of the configured places. */
    targetDir: z.string().optional(),
    /** Replace files that are in the way (each kept as NAME.bak). */
    overwrite: z.boolean().optional(),
  })
  .strict();

export type ConfigFilesRestoreOptions = z.input<typeof configFilesRestoreOptionsSchema>;

/** The options as given, checked (CONFIG_INVALID naming the bad one). */
export const configRestoreOptionsOf = (input: object): ConfigFilesRestoreOptions =>
  parseOptions(configFilesRestoreOptionsSchema, input, 'config-files restore');
