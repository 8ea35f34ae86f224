import { createHmac } from 'node:crypto';
import {
  createEngine,
  LifeboatError,
  memoryStorage,
  type NotificationEvent,
  notifyOn,
  redact,
  type Source,
} from '@lifeboat/core';
import { HEADERS, renderRequest, verifyWebhook, webhookNotifier } from '@lifeboat/notifier-webhook';
import { type ReceivedRequest, type Receiver, startReceiver } from '@lifeboat/test-support/http';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterEach, describe, expect, it } from 'vitest';

const SECRET = 'whsec-Test-Secret-0042';
const TOKEN = 'T0Ken9f8e7d6c5b4a3';
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

/** What a careful receiver does, written with node:crypto alone: signature, age, replays. */
function verifyingReceiver(secret: string) {
  const seen = new Set<string>();
  const verdicts: string[] = [];
  const answer = (req: ReceivedRequest) => {
    const timestamp = String(req.headers[HEADERS.timestamp]);
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${req.body}`).digest('hex')}`;
    const delivery = String(req.headers[HEADERS.delivery]);
    let verdict: number;
    if (req.headers[HEADERS.signature] !== expected) verdict = 401;
    else if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) verdict = 401;
    else if (seen.has(delivery)) verdict = 409;
    else {
      seen.add(delivery);
      verdict = 200;
    }
    verdicts.push(String(verdict));
    return verdict;
  };
  return { answer, verdicts };
}

function engineWith(notifier: ReturnType<typeof webhookNotifier>, source?: Source) {
  return createEngine({
    sources: [source ?? fileSource({ 'a.txt': 'hello' }).source],
    storage: memoryStorage(),
    notifiers: [notifier],
  });
}

describe('webhook notifier against a real HTTP receiver', () => {
  it('signs every post; the receiver verifies it and rejects a replay and a tampered body', async () => {
    const check = verifyingReceiver(SECRET);
    receiver = await startReceiver(check.answer);
    const engine = engineWith(
      webhookNotifier({ url: `${receiver.url}/hooks/${TOKEN}`, secret: SECRET }),
    );
    const result = await engine.backup();
    expect(result.notifications).toEqual([{ notifier: 'webhook', ok: true }]);
    const [post] = receiver.requests;
    expect(post!.method).toBe('POST');
    expect(post!.headers[HEADERS.event]).toBe('backup:succeeded');
    expect(post!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(post!.body);
    expect(body).toMatchObject({
      event: 'backup:succeeded',
      category: 'success',
      backup: { file: result.file, bytes: result.bytes },
    });
    expect(check.verdicts).toEqual(['200']);
    // The SDK's own helper agrees with the receiver.
    expect(verifyWebhook({ secret: SECRET, body: post!.body, headers: post!.headers })).toEqual({
      ok: true,
    });

    const resend = (req: ReceivedRequest, body = req.body) =>
      fetch(`${receiver!.url}${req.url}`, {
        method: 'POST',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            ([k]) => k.startsWith('x-lifeboat-') || k === 'content-type',
          ) as [string, string][],
        ),
        body,
      });
    expect((await resend(post!)).status).toBe(409); // the same delivery again: a replay
    expect((await resend(post!, post!.body.replace('success', 'failure'))).status).toBe(401);
    // An old capture, replayed after the tolerance window, fails on its timestamp.
    expect(
      verifyWebhook({
        secret: SECRET,
        body: post!.body,
        headers: post!.headers,
        now: new Date(Date.now() + 10 * 60_000),
      }),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('replay') });
    expect(
      verifyWebhook({ secret: 'another-secret', body: post!.body, headers: post!.headers }),
    ).toMatchObject({ ok: false, reason: 'signature mismatch' });
    await engine.close();
  });

  it('503 twice then 200: retried with one delivery id, delivered', async () => {
    const check = verifyingReceiver(SECRET);
    receiver = await startReceiver((req, n) => (n <= 2 ? 503 : check.answer(req)));
    const engine = engineWith(
      webhookNotifier({ url: `${receiver.url}/in`, secret: SECRET, retryDelayMs: 20 }),
    );
    const result = await engine.backup();
    expect(result.notifications).toEqual([{ notifier: 'webhook', ok: true }]);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.headers[HEADERS.delivery])).size).toBe(1);
    expect(check.verdicts).toEqual(['200']);
    await engine.close();
  });

  it('a receiver that never answers: the backup succeeds in bounded time, the failure is recorded without the token', async () => {
    receiver = await startReceiver(() => 'hang');
    const engine = engineWith(
      webhookNotifier({
        url: `${receiver.url}/hooks/${TOKEN}?key=${TOKEN}`,
        timeoutMs: 300,
        retries: 2,
        retryDelayMs: 20,
      }),
    );
    const began = performance.now();
    const result = await engine.backup();
    expect(performance.now() - began).toBeLessThan(20_000);
    expect(receiver.requests).toHaveLength(2);
    expect(result.notifications[0]).toMatchObject({ notifier: 'webhook', ok: false });
    expect(result.notifications[0]!.error).toContain('no answer within 300 ms (after 2 attempts)');
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    const status = await engine.status();
    expect(status.notificationFailures).toHaveLength(1);
    expect(JSON.stringify(status)).not.toContain(TOKEN);
    await engine.close();
  });

  it('a 4xx is not retried (a wrong URL or token does not heal)', async () => {
    receiver = await startReceiver(() => 404);
    const notifier = webhookNotifier({ url: `${receiver.url}/x`, retryDelayMs: 20 });
    await expect(notifier.notify({ kind: 'test', at: new Date() })).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      retryable: false,
      message: expect.stringContaining('HTTP 404'),
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('NOTIFY_ON=failure: a success is not posted, a failure is', async () => {
    receiver = await startReceiver();
    let fail = false;
    const good = fileSource({ 'a.txt': 'x' }).source;
    const source: Source = {
      ...good,
      async backup(ctx) {
        if (fail) throw new LifeboatError('SOURCE_FAILED', 'broken on purpose');
        return good.backup(ctx);
      },
    };
    const engine = createEngine({
      sources: [source],
      storage: memoryStorage(),
      notifiers: [notifyOn(webhookNotifier({ url: `${receiver.url}/in` }), ['failure'])],
    });
    await engine.backup();
    expect(receiver.requests).toHaveLength(0);
    fail = true;
    await expect(engine.backup()).rejects.toThrow();
    expect(receiver.requests.map((r) => r.headers[HEADERS.event])).toEqual(['backup:failed']);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({
      category: 'failure',
      error: { code: 'SOURCE_FAILED' },
    });
    await engine.close();
  });

  it('health: reachable is ok, a closed port is a warning that hides the token', async () => {
    receiver = await startReceiver();
    const url = `${receiver.url}/hooks/${TOKEN}`;
    expect((await webhookNotifier({ url }).health())[0]).toMatchObject({ status: 'ok' });
    await receiver.close();
    receiver = undefined;
    const check = (await webhookNotifier({ url, timeoutMs: 2000 }).health())[0]!;
    expect(check.status).toBe('warning');
    expect(check.message).toContain('ECONNREFUSED');
    expect(check.message).not.toContain(TOKEN);
    expect(redact(`POST ${url}`)).not.toContain(TOKEN);
  });
});

describe('presets', () => {
  const failure: NotificationEvent = {
    kind: 'backup:failed',
    error: {
      code: 'DATABASE_UNREACHABLE',
      message: 'connect ECONNREFUSED 10.0.0.5:5432',
      hint: 'Start it.',
    },
    at: new Date(),
    storage: '/backups',
  };
  it('slack: text with the title in bold', () => {
    const r = renderRequest(failure, 'slack', 'db1');
    const body = JSON.parse(r.body);
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toMatch(/^🔴 \*Backup FAILED on db1: DATABASE_UNREACHABLE\*\n/);
  });
  it('discord: content and a coloured embed', () => {
    const body = JSON.parse(renderRequest(failure, 'discord', 'db1').body);
    expect(body.content).toContain('**Backup FAILED on db1: DATABASE_UNREACHABLE**');
    expect(body.embeds[0].description).toContain('ECONNREFUSED');
    expect(body.embeds[0].color).toBe(0xd32f2f);
  });
  it('teams: an Adaptive Card message', () => {
    const body = JSON.parse(renderRequest(failure, 'teams', 'db1').body);
    expect(body.type).toBe('message');
    const card = body.attachments[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.body[0].text).toContain('Backup FAILED on db1');
  });
  it('ntfy: plain text with title, priority and tags headers', () => {
    const r = renderRequest(failure, 'ntfy', 'db1');
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(r.body).toContain('ECONNREFUSED');
    expect(r.headers).toMatchObject({
      title: 'Backup FAILED on db1: DATABASE_UNREACHABLE',
      priority: '5',
      tags: 'rotating_light',
    });
  });
  it('ntfy over HTTP: the headers arrive', async () => {
    receiver = await startReceiver();
    await webhookNotifier({ url: `${receiver.url}/backups-${TOKEN}`, preset: 'ntfy' }).notify(
      failure,
    );
    expect(receiver.requests[0]!.headers).toMatchObject({ priority: '5', tags: 'rotating_light' });
  });
  it('bad options are CONFIG_INVALID naming the setting', () => {
    expect(() => webhookNotifier({ url: 'ftp://x/y' })).toThrow(/url.*http\(s\) URL/);
    expect(() => webhookNotifier({ url: 'https://x/y', preset: 'irc' as never })).toThrow(/preset/);
    expect(() => webhookNotifier({ url: 'https://x/y', secret: 'short' })).toThrow(/8 characters/);
  });
});
