import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers every request carries. */
export const HEADERS = {
  event: 'x-lifeboat-event',
  delivery: 'x-lifeboat-delivery',
  timestamp: 'x-lifeboat-timestamp',
  signature: 'x-lifeboat-signature',
} as const;

/**
 * `sha256=` and the hex HMAC-SHA256 of `timestamp.body` under the secret. The timestamp (Unix
 * seconds) is signed with the body, so a captured request cannot be replayed later with a fresh
 * timestamp; the receiver rejects old ones (as Stripe's and Slack's signatures do).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface VerifyWebhookInput {
  secret: string;
  /** The raw body, exactly as received. */
  body: string;
  /** The request headers (Node's `req.headers`, lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** Oldest accepted timestamp, in seconds before `now`. Default 300. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * For receivers written in Node: checks the signature (in constant time) and the timestamp's
 * age. A receiver should also remember X-Lifeboat-Delivery ids for the tolerance window and
 * reject one it has seen (a replay within the window).
 */
export function verifyWebhook(
  input: VerifyWebhookInput,
): { ok: true } | { ok: false; reason: string } {
  const header = (name: string) => {
    const v = input.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const timestamp = Number(header(HEADERS.timestamp));
  const signature = header(HEADERS.signature) ?? '';
  if (!Number.isInteger(timestamp)) return { ok: false, reason: 'no timestamp header' };
  const now = (input.now ?? new Date()).getTime() / 1000;
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? 300))
    return { ok: false, reason: 'timestamp outside the tolerance: a replay, or a wrong clock' };
  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
