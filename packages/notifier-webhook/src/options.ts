import { z } from 'zod';
import { presetField, secretField, urlField } from './fields.js';

export { WEBHOOK_PRESETS, type WebhookPreset } from './fields.js';

export const webhookNotifierOptionsSchema = z
  .object({
    url: urlField,
    secret: secretField.optional(),
    preset: presetField.default('json'),
    /** Extra request headers (an Authorization header, for example; its value is never logged). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Attempts in all, the first one included; retried on 5xx, 408, 429 and timeouts. */
    retries: z.number().int().min(1).max(20).default(3),
    /** First backoff delay; doubles on every attempt, with jitter. */
    retryDelayMs: z.number().int().nonnegative().default(1000),
    /** Per attempt: connecting, sending and the answer's status line. */
    timeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();

export type WebhookNotifierOptions = z.input<typeof webhookNotifierOptionsSchema>;
export type ResolvedWebhookNotifierOptions = z.output<typeof webhookNotifierOptionsSchema>;
