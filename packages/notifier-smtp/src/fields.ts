import { hostHint } from '@lifeboat/core';
import { z } from 'zod';

/*
 * The options a host checks on its own before it loads the plugin (the environment preset's
 * settings): declared here once, used by the plugin's schema. Messages name the option as the
 * host calls it (hostHint). An entry of its own (`@lifeboat/notifier-smtp/fields`): no nodemailer.
 */

const portMessage = () => `${hostHint('smtp:port', 'port')} must be a port number from 1 to 65535`;
export const portField = z
  .number()
  .int()
  .min(1, { error: portMessage })
  .max(65535, { error: portMessage });
