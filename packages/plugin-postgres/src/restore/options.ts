import { parseOptions } from '@lifeboat/core';
import { z } from 'zod';

/**
 * The postgres source's restore options, given under its id
 * (`engine.restore(ref, { postgres: { targetDatabase: 'app_restored' } })`). They come from
 * outside the type system (a script, the CLI's flags), so they are parsed here: an unknown or
 * misspelt option is CONFIG_INVALID, not silently ignored.
 */
export const postgresRestoreOptionsSchema = z
  .object({
    /** Only these tables (`public.users`), replacing their rows. */
    tables: z.array(z.string()).optional(),
    /** A database on the configured server (created when missing). */
    targetDatabase: z.string().optional(),
    /** Another server's database (TARGET_DATABASE_URL). */
    targetUrl: z.string().optional(),
    /**
     * Restore into the configured database itself (the emergency case). Without it, or a target
     * named explicitly, the restore refuses: it writes only where it is told.
     */
    inPlace: z.boolean().optional(),
    /** Drop what the target holds first. */
    clean: z.boolean().optional(),
    /** Restore the tables next to the live ones, their names with this suffix. */
    asSuffix: z.string().optional(),
    /** Create the archive's missing roles first (BACKUP_GLOBALS archives). */
    globals: z.boolean().optional(),
    /** Skip the statistics (ANALYZE or the archived statistics) after the load. */
    noAnalyze: z.boolean().optional(),
    /** Try an archive of a newer PostgreSQL than the target's anyway. */
    allowNewerArchive: z.boolean().optional(),
    // The restore-time choices (restore/choices.ts), as pg_restore's options.
    schemaOnly: z.boolean().optional(),
    dataOnly: z.boolean().optional(),
    noOwner: z.boolean().optional(),
    noPrivileges: z.boolean().optional(),
    noPolicies: z.boolean().optional(),
    noComments: z.boolean().optional(),
    noPublications: z.boolean().optional(),
    noSubscriptions: z.boolean().optional(),
    schemas: z.array(z.string().min(1)).optional(),
    excludeSchemas: z.array(z.string().min(1)).optional(),
    excludeTableData: z.array(z.string().min(1)).optional(),
    noTablespaces: z.boolean().optional(),
    /** `{ old: 'new' }`: the archive's tablespace `old` becomes `new` on the target. */
    tablespaceMap: z.record(z.string().min(1), z.string().min(1)).optional(),
    /** A filter file's text, in pg_dump's `--filter` syntax. */
    filter: z.object({ text: z.string(), name: z.string() }).optional(),
  })
  .strict();

export type PostgresRestoreOptions = z.input<typeof postgresRestoreOptionsSchema>;

/** The options as given, checked (CONFIG_INVALID naming the bad one). */
export const restoreOptionsOf = (input: object): PostgresRestoreOptions =>
  parseOptions(postgresRestoreOptionsSchema, input, 'postgres restore');
