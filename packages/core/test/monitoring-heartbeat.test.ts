import {
  createEngine,
  heartbeat,
  LifeboatError,
  memoryStorage,
  redact,
  type Source,
} from '@lifeboat/core';
import { type Receiver, startReceiver } from '@lifeboat/test-support/http';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

const TOKEN = '3f5e2c1a-9b7d-4e21-8c3f-0a1b2c3d4e5f';
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const failingSource = (): Source => ({
  ...fileSource({ 'a.txt': 'a' }).source,
  async backup() {
    throw new LifeboatError('SOURCE_FAILED', 'the test source broke on purpose');
  },
});

function setup(source: Source, style: 'healthchecks' | 'uptime-kuma', url: string, extra = {}) {
  const engine = createEngine({ sources: [source], storage: memoryStorage() });
  const hb = heartbeat({ url, style, retryDelayMs: 10, ...extra });
  const warnings: { code: string; message: string }[] = [];
  engine.events.on('warning', (w) => warnings.push(w));
  const stop = hb.watch(engine.events);
  return { engine, hb, warnings, stop };
}

describe('heartbeat (healthchecks.io convention)', () => {
  it('pings URL/start then URL with the run log for a good backup, with one run id', async () => {
    receiver = await startReceiver();
    const { engine, hb, warnings } = setup(
      fileSource({ 'a.txt': 'hello' }).source,
      'healthchecks',
      `${receiver.url}/ping/${TOKEN}`,
    );
    const result = await engine.backup();
    await hb.settle();
    const paths = receiver.requests.map(
      (r) => `${r.method} ${new URL(r.url, 'http://x').pathname}`,
    );
    expect(paths).toEqual([`POST /ping/${TOKEN}/start`, `POST /ping/${TOKEN}`]);
    const rids = receiver.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('rid'));
    expect(rids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(rids[1]).toBe(rids[0]);
    expect(receiver.requests[1]!.body).toContain(`stored ${result.file}`);
    expect(receiver.requests[1]!.headers['content-type']).toMatch(/^text\/plain/);
    expect(warnings).toEqual([]);
    await engine.close();
  });

  it('pings URL/start then URL/fail with the error for a failed backup', async () => {
    receiver = await startReceiver();
    const { engine, hb } = setup(failingSource(), 'healthchecks', `${receiver.url}/${TOKEN}`);
    await expect(engine.backup()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    await hb.settle();
    const paths = receiver.requests.map((r) => new URL(r.url, 'http://x').pathname);
    expect(paths).toEqual([`/${TOKEN}/start`, `/${TOKEN}/fail`]);
    expect(receiver.requests[1]!.body).toContain('backup FAILED SOURCE_FAILED');
    expect(receiver.requests[1]!.body).toContain('the test source broke on purpose');
    await engine.close();
  });

  it('a receiver that never answers: the backup succeeds, pings give up in bounded time, the warning hides the token', async () => {
    receiver = await startReceiver(() => 'hang');
    const { engine, hb, warnings } = setup(
      fileSource({ 'a.txt': 'hello' }).source,
      'healthchecks',
      `${receiver.url}/${TOKEN}`,
      { timeoutMs: 300, attempts: 2 },
    );
    const began = performance.now();
    const result = await engine.backup();
    await hb.settle();
    const took = performance.now() - began;
    expect(result.file).toMatch(/\.tar\.gz$/);
    // Two pings (start, success), two attempts each, 300 ms each, plus short pauses.
    expect(took).toBeLessThan(20_000);
    expect(receiver.requests.length).toBe(4);
    const failed = warnings.filter((w) => w.code === 'HEARTBEAT_FAILED');
    expect(failed).toHaveLength(2);
    for (const w of failed) {
      expect(w.message).toContain('no answer within 300 ms');
      expect(w.message).not.toContain(TOKEN);
      expect(w.message).toContain(`${receiver.url}/***`);
    }
    // Registered with the redactor: any text quoting the URL loses the token.
    expect(redact(`GET ${receiver.url}/${TOKEN}/start`)).not.toContain(TOKEN);
    await engine.close();
  });

  it('retries a ping that gets 503, then succeeds', async () => {
    receiver = await startReceiver((_r, n) => (n === 1 ? 503 : 200));
    const { engine, hb, warnings } = setup(
      fileSource({ 'a.txt': 'x' }).source,
      'healthchecks',
      `${receiver.url}/${TOKEN}`,
    );
    await engine.backup();
    await hb.settle();
    expect(receiver.requests.map((r) => new URL(r.url, 'http://x').pathname)).toEqual([
      `/${TOKEN}/start`,
      `/${TOKEN}/start`,
      `/${TOKEN}`,
    ]);
    expect(warnings).toEqual([]);
    await engine.close();
  });
});

describe('heartbeat (Uptime Kuma push convention)', () => {
  it('pushes status=up with the summary and the duration, and status=down on failure', async () => {
    receiver = await startReceiver();
    const url = `${receiver.url}/api/push/Kd8s7Hq2?status=up&msg=OK&ping=`;
    const good = setup(fileSource({ 'a.txt': 'x' }).source, 'uptime-kuma', url);
    const result = await good.engine.backup();
    await good.hb.settle();
    good.stop();
    const bad = setup(failingSource(), 'uptime-kuma', url);
    await expect(bad.engine.backup()).rejects.toThrow();
    await bad.hb.settle();
    expect(receiver.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    const [up, down] = receiver.requests.map((r) => new URL(r.url, 'http://x'));
    expect(up!.pathname).toBe('/api/push/Kd8s7Hq2');
    expect(up!.searchParams.get('status')).toBe('up');
    expect(up!.searchParams.get('msg')).toContain(`stored ${result.file}`);
    expect(Number(up!.searchParams.get('ping'))).toBeGreaterThanOrEqual(0);
    expect(down!.searchParams.get('status')).toBe('down');
    expect(down!.searchParams.get('msg')).toContain('SOURCE_FAILED');
    await good.engine.close();
    await bad.engine.close();
  });

  it('health: a reachable service is ok, a closed port is a warning', async () => {
    receiver = await startReceiver();
    const ok = heartbeat({ url: `${receiver.url}/${TOKEN}` });
    expect((await ok.health())[0]).toMatchObject({ name: 'heartbeat', status: 'ok' });
    const port = receiver.port;
    await receiver.close();
    receiver = undefined;
    const down = heartbeat({ url: `http://127.0.0.1:${port}/${TOKEN}`, timeoutMs: 2000 });
    const check = (await down.health())[0]!;
    expect(check).toMatchObject({ name: 'heartbeat', status: 'warning' });
    expect(check.message).toContain('ECONNREFUSED');
    expect(check.message).not.toContain(TOKEN);
  });

  it('rejects a URL that is not http(s)', () => {
    expect(() => heartbeat({ url: 'ftp://example.com/x' })).toThrow(/CONFIG_INVALID|http/);
  });
});
