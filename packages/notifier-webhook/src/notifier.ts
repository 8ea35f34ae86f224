import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  displayUrl,
  type HealthCheck,
  LifeboatError,
  type NotificationEvent,
  type Notifier,
  parseOptions,
  redact,
  registerSecret,
  registerUrlSecrets,
  sendHttp,
  urlHealth,
} from '@lifeboat/core';
import {
  type ResolvedWebhookNotifierOptions,
  type WebhookNotifierOptions,
  webhookNotifierOptionsSchema,
} from './options.js';
import { renderRequest } from './render.js';
import { HEADERS, signWebhook } from './signature.js';

/**
 * A notifier that POSTs every event to a URL: Lifeboat's signed JSON, or the body Slack,
 * Discord, Microsoft Teams or ntfy expect. Retried with backoff on 5xx, 408, 429 and timeouts.
 */
export function webhookNotifier(input: WebhookNotifierOptions) {
  const options: ResolvedWebhookNotifierOptions = parseOptions(
    webhookNotifierOptionsSchema,
    input,
    'webhook',
  );
  // The URL's path and query hold the token of most services; the secret and any header value
  // (an Authorization header) are secrets as well.
  registerUrlSecrets(options.url);
  registerSecret(options.secret);
  for (const value of Object.values(options.headers)) registerSecret(value);
  const where = displayUrl(options.url);

  return {
    id: 'webhook' as const,

    describe: () => `webhook (${options.preset}) ${where}${options.secret ? ', signed' : ''}`,

    async notify(event: NotificationEvent, notifyOptions: { signal?: AbortSignal } = {}) {
      const request = renderRequest(event, options.preset, hostname());
      // One delivery id for all attempts: a receiver that dedupes on it processes one of them.
      const delivery = randomUUID();
      try {
        await sendHttp(
          {
            url: options.url,
            method: 'POST',
            what: `the ${event.kind} webhook`,
            build: () => {
              const timestamp = Math.floor(Date.now() / 1000);
              return {
                body: request.body,
                headers: {
                  ...options.headers,
                  ...request.headers,
                  'content-type': request.contentType,
                  'user-agent': 'lifeboat-webhook',
                  [HEADERS.event]: event.kind,
                  [HEADERS.delivery]: delivery,
                  [HEADERS.timestamp]: String(timestamp),
                  ...(options.secret
                    ? { [HEADERS.signature]: signWebhook(options.secret, timestamp, request.body) }
                    : {}),
                },
              };
            },
          },
          {
            attempts: options.retries,
            timeoutMs: options.timeoutMs,
            retryDelayMs: options.retryDelayMs,
            ...(notifyOptions.signal ? { signal: notifyOptions.signal } : {}),
          },
        );
      } catch (error) {
        if (error instanceof LifeboatError) throw error;
        throw new LifeboatError(
          'NOTIFY_FAILED',
          redact(`the webhook to ${where} failed: ${String(error)}`),
          {
            cause: error,
          },
        );
      }
    },

    /** Whether the receiver accepts connections; nothing is posted (a post would be a message). */
    // One name whatever the outcome, also when getting ready fails (core's fallback).
    healthName: 'webhook',
    health: (): Promise<HealthCheck[]> =>
      urlHealth({
        name: 'webhook',
        url: options.url,
        where,
        timeoutMs: options.timeoutMs,
        unreachable: (reason) => `the webhook receiver ${where} cannot be reached: ${reason}`,
      }),
  } satisfies Notifier;
}

export type WebhookNotifier = ReturnType<typeof webhookNotifier>;
