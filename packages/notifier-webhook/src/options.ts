import { z } from 'zod';

export const WEBHOOK_PRESETS = ['json', 'slack', 'discord', 'teams', 'ntfy'] as const;
export type WebhookPreset = (typeof WEBHOOK_PRESETS)[number];

export const webhookNotifierOptionsSchema = z
  .object({
    /** Where every notification is POSTed. Its path and query are treated as secrets. */
    url: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: 'must be an http(s) URL such as https://hooks.example.com/lifeboat (WEBHOOK_URL)',
    }),
    /** HMAC-SHA256 key: every request carries X-Lifeboat-Signature (WEBHOOK_SECRET). */
    secret: z
      .string()
      .min(8, 'the secret must be at least 8 characters (WEBHOOK_SECRET)')
      .optional(),
    /** Shape of the body: Lifeboat's own JSON, or what Slack, Discord, Teams or ntfy expect. */
    preset: z.enum(WEBHOOK_PRESETS).default('json'),
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
