import { hostHint } from '@lifeboat/core';
import { z } from 'zod';

/*
 * The options a host checks on its own before it loads the plugin (the environment preset checks
 * its settings so, all at once): declared here once, used by the plugin's schema. Messages name
 * the option as the host calls it (`hostHint('postgres:jobs', 'jobs')`: BACKUP_JOBS in the CLI).
 * This module is an entry of its own (`@lifeboat/plugin-postgres/fields`): it loads no driver.
 */

/** The most connections one run opens (`jobs`). */
export const MAX_JOBS = 32;

const jobsMessage = () =>
  `${hostHint('postgres:jobs', 'jobs')} must be a number of connections from 1 to ${MAX_JOBS}`;
/** Connections copying tables at the same time (backup, restore and verify --deep). */
export const jobsField = z
  .number()
  .int()
  .min(1, { error: jobsMessage })
  .max(MAX_JOBS, { error: jobsMessage });

const portMessage = () =>
  `${hostHint('postgres:port', 'port')} must be a port number from 1 to 65535`;
export const portField = z
  .number()
  .int()
  .min(1, { error: portMessage })
  .max(65535, { error: portMessage });

/** Which roles a backup keeps (see globals/read.ts). */
export const GLOBALS_SCOPES = ['roles', 'all-roles'] as const;
