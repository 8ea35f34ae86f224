import { hostHint } from '@lifeboat/core';
import { z } from 'zod';

/*
 * The options a host checks on its own before it loads the plugin (the environment preset's
 * settings): declared here once, used by the plugin's schema. Messages name the option as the
 * host calls it (hostHint). An entry of its own (`@lifeboat/notifier-webhook/fields`).
 */

export const WEBHOOK_PRESETS = ['json', 'slack', 'discord', 'teams', 'ntfy'] as const;
export type WebhookPreset = (typeof WEBHOOK_PRESETS)[number];

/** Where every notification is POSTed. Its path and query are treated as secrets. */
export const urlField = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
    error: () =>
      `${hostHint('webhook:url', 'url')} must be an http(s) URL such as https://hooks.example.com/lifeboat`,
  });

/** HMAC-SHA256 key: every request carries X-Lifeboat-Signature. */
export const secretField = z
  .string()
  .min(8, { error: () => `${hostHint('webhook:secret', 'secret')} must be at least 8 characters` });

/** Shape of the body: Lifeboat's own JSON, or what Slack, Discord, Teams or ntfy expect. */
export const presetField = z.enum(WEBHOOK_PRESETS, {
  error: () =>
    `${hostHint('webhook:preset', 'preset')} must be ${WEBHOOK_PRESETS.slice(0, -1).join(', ')} or ${WEBHOOK_PRESETS.at(-1)}`,
});
