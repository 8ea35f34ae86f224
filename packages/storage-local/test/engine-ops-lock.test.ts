import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  acquireLock,
  createEmitter,
  createEngine,
  type HeldLock,
  LifeboatError,
  LOCK_KEY,
  memoryStorage,
  type Notifier,
  type Source,
  type Storage,
} from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = (tag = 'lock') => {
  const d = mkdtempSync(join(tmpdir(), `lifeboat-${tag}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readLockRecord(storage: Storage) {
  const chunks: Buffer[] = [];
  for await (const c of (await storage.get(LOCK_KEY)) as AsyncIterable<Buffer>) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function recorder() {
  const events = createEmitter();
  const warnings: { code: string; message: string }[] = [];
  const waiting: { owner: string }[] = [];
  events.on('warning', (w) => warnings.push(w));
  events.on('lock:waiting', (w) => waiting.push(w));
  return { events, warnings, waiting };
}

const opts = (over: Partial<Parameters<typeof acquireLock>[1]> = {}) => ({
  waitMs: 0,
  staleMs: 60_000,
  operation: 'backup',
  ...over,
});

const lockedError = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(LifeboatError);
  expect((e as LifeboatError).code).toBe('LOCKED');
  return e as LifeboatError;
};

describe('acquireLock in one process', () => {
  it('one holder at a time; the second fails at once with LOCKED naming the holder', async () => {
    const storage = localStorage({ dir: tempDir() });
    await storage.connect();
    const first = await acquireLock(storage, opts({ operation: 'prune' }));
    const e = await lockedError(acquireLock(storage, opts()));
    expect(e.message).toContain(`Another prune (${hostname()}:${process.pid}`);
    expect(e.retryable).toBe(true);
    expect(e.details).toMatchObject({ operation: 'prune', owner: `${hostname()}:${process.pid}` });
    await first.release();
    await expect(storage.stat(LOCK_KEY)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const second = await acquireLock(storage, opts());
    await second.release();
  });

  it('of many simultaneous attempts exactly one wins', async () => {
    const storage = memoryStorage();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => acquireLock(storage, opts())),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect((r.reason as LifeboatError).code).toBe('LOCKED');
    await (won[0] as PromiseFulfilledResult<HeldLock>).value.release();
  });

  it('waits (waitMs > 0), says so once with lock:waiting, and gets the lock after the release', async () => {
    const storage = localStorage({ dir: tempDir() });
    await storage.connect();
    const first = await acquireLock(storage, opts({ operation: 'prune' }));
    const { events, waiting } = recorder();
    const started = Date.now();
    setTimeout(() => void first.release(), 400);
    const second = await acquireLock(storage, opts({ waitMs: 5000, events }));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(3000);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.owner).toBe(`${hostname()}:${process.pid}`);
    await second.release();
  });

  it('a wait that runs out fails with LOCKED', async () => {
    const storage = memoryStorage();
    const first = await acquireLock(storage, opts());
    const started = Date.now();
    await lockedError(acquireLock(storage, opts({ waitMs: 300 })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await first.release();
  });

  it('an abort stops the wait', async () => {
    const storage = memoryStorage();
    const first = await acquireLock(storage, opts());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const e = await acquireLock(storage, opts({ waitMs: 10_000, signal: controller.signal })).catch(
      (error: unknown) => error as LifeboatError,
    );
    expect((e as LifeboatError).code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(2000);
    await first.release();
  });

  it('a held lock is refreshed, so it never looks stale while its holder works', async () => {
    const storage = localStorage({ dir: tempDir() });
    await storage.connect();
    const held = await acquireLock(storage, opts({ staleMs: 300 }));
    const before = await readLockRecord(storage);
    await sleep(800);
    const after = await readLockRecord(storage);
    expect(after.token).toBe(before.token);
    expect(after.acquiredAt).toBe(before.acquiredAt);
    expect(Date.parse(after.refreshedAt)).toBeGreaterThan(Date.parse(before.refreshedAt) + 300);
    // Older than staleMs since acquired, but refreshed: not taken over.
    const { events, warnings } = recorder();
    await lockedError(acquireLock(storage, opts({ staleMs: 300, events })));
    expect(warnings).toEqual([]);
    await held.release();
  });

  it('a lock not refreshed for staleMs is taken over with a STALE_LOCK warning', async () => {
    const storage = memoryStorage();
    // Written by a process on another host (its pid cannot be checked) that stopped refreshing.
    const old = new Date(Date.now() - 5000).toISOString();
    await storage.put(
      LOCK_KEY,
      Buffer.from(
        JSON.stringify({
          owner: 'other-host:42',
          host: 'other-host',
          pid: 42,
          token: 'abc',
          operation: 'backup',
          acquiredAt: old,
          refreshedAt: old,
        }),
      ),
    );
    const { events, warnings } = recorder();
    // Not yet stale for a 10 s timeout.
    await lockedError(acquireLock(storage, opts({ staleMs: 10_000, events })));
    expect(warnings).toEqual([]);
    const lock = await acquireLock(storage, opts({ staleMs: 2000, events }));
    expect(warnings.map((w) => w.code)).toEqual(['STALE_LOCK']);
    expect(warnings[0]!.message).toContain('other-host:42');
    expect(warnings[0]!.message).toMatch(/not refreshed for 5 s/);
    expect((await readLockRecord(storage)).pid).toBe(process.pid);
    await lock.release();
  });

  it('a damaged lock object is taken over', async () => {
    const storage = memoryStorage();
    await storage.put(LOCK_KEY, Buffer.from('{"owner": "half-writ'));
    const { events, warnings } = recorder();
    const lock = await acquireLock(storage, opts({ events }));
    expect(warnings.map((w) => w.code)).toEqual(['STALE_LOCK']);
    await lock.release();
  });

  it('of many processes that find the same stale lock, exactly one takes it over', async () => {
    for (let round = 0; round < 5; round++) {
      const storage = memoryStorage();
      const old = new Date(Date.now() - 3600_000).toISOString();
      await storage.put(
        LOCK_KEY,
        Buffer.from(
          JSON.stringify({
            owner: 'gone:1',
            host: 'gone',
            pid: 1,
            token: 'stale',
            operation: 'backup',
            acquiredAt: old,
            refreshedAt: old,
          }),
        ),
      );
      const { events, warnings } = recorder();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => acquireLock(storage, opts({ events }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(warnings.filter((w) => w.code === 'STALE_LOCK')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect((r.reason as LifeboatError).code).toBe('LOCKED');
      await (won[0] as PromiseFulfilledResult<HeldLock>).value.release();
      // No take-over marker is left behind.
      expect((await storage.list('.lifeboat/')).map((o) => o.key)).toEqual([]);
    }
  });

  it('a release never races a refresh into leaving the lock behind', async () => {
    const storage = localStorage({ dir: tempDir() });
    await storage.connect();
    for (let i = 0; i < 15; i++) {
      // Refreshes every 20 ms: releases land in the middle of refreshes.
      const lock = await acquireLock(storage, opts({ staleMs: 60 }));
      await sleep(5 + ((i * 7) % 40));
      await lock.release();
      await sleep(30);
      await expect(storage.stat(LOCK_KEY)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('a holder whose lock was taken over is told (LOCK_LOST) and does not write it back', async () => {
    const storage = memoryStorage();
    const { events, warnings } = recorder();
    const lock = await acquireLock(storage, opts({ staleMs: 90, events }));
    // Someone removed it and took it (as a take-over after a long pause would).
    await storage.delete(LOCK_KEY);
    const other = await acquireLock(storage, opts());
    const otherToken = (await readLockRecord(storage)).token;
    await sleep(150);
    expect(warnings.map((w) => w.code)).toContain('LOCK_LOST');
    expect((await readLockRecord(storage)).token).toBe(otherToken);
    await lock.release();
    // Releasing the lost lock leaves the new holder's lock alone.
    expect((await readLockRecord(storage)).token).toBe(otherToken);
    await other.release();
  });
});

/* ------------------------------------------------------------- processes */

// A small program that races for the lock in a real folder, built from the current sources.
const CHILD_SOURCE = (core: string, local: string) => `
import { acquireLock, createEmitter } from ${JSON.stringify(core)};
import { localStorage } from ${JSON.stringify(local)};
const [dir, mode, waitMs, staleMs, holdMs] = process.argv.slice(2);
const out = (o: Record<string, unknown>) =>
  process.stdout.write(JSON.stringify({ pid: process.pid, t: Date.now(), ...o }) + '\\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function main() {
  const storage = localStorage({ dir });
  await storage.connect();
  const events = createEmitter();
  events.on('lock:waiting', (e) => out({ event: 'waiting', owner: e.owner }));
  events.on('warning', (w) => out({ event: 'warning', code: w.code, message: w.message }));
  out({ event: 'ready' });
  // The parent says when to go (a wall-clock time), so that racers start together.
  const startAt = await new Promise<number>((resolve) => {
    let text = '';
    process.stdin.on('data', (c) => {
      text += c;
      if (text.includes('\\n')) resolve(Number(text.trim()));
    });
  });
  process.stdin.destroy();
  const delay = startAt - Date.now();
  if (delay > 0) await sleep(delay);
  try {
    const lock = await acquireLock(storage, {
      waitMs: Number(waitMs), staleMs: Number(staleMs), operation: 'backup', events,
    });
    out({ event: 'acquired' });
    if (mode === 'hold') { setInterval(() => {}, 1 << 30); return; }
    await sleep(Number(holdMs));
    out({ event: 'releasing' });
    await lock.release();
    out({ event: 'released' });
  } catch (e) {
    const err = e as { code?: string; message: string };
    out({ event: err.code === 'LOCKED' ? 'locked' : 'error', code: err.code, message: err.message });
  }
}
main();
`;

interface Line {
  pid: number;
  t: number;
  event: string;
  code?: string;
  message?: string;
  owner?: string;
}

let childScript = '';

beforeAll(async () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const work = tempDir('lock-child');
  const entry = join(work, 'lock-child.ts');
  writeFileSync(
    entry,
    CHILD_SOURCE(
      join(root, 'packages/core/src/index.ts'),
      join(root, 'packages/storage-local/src/index.ts'),
    ),
  );
  const { build } = await import('tsup');
  await build({
    entry: { 'lock-child': entry },
    outDir: join(work, 'out'),
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    platform: 'node',
    target: 'node20',
    noExternal: [/.*/],
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
    config: false,
    tsconfig: join(root, 'tsconfig.json'),
  });
  childScript = join(work, 'out', 'lock-child.cjs');
  expect(readFileSync(childScript, 'utf8')).toContain('acquireLock');
}, 60_000);

function runChild(args: {
  dir: string;
  mode?: 'race' | 'hold';
  waitMs?: number;
  staleMs?: number;
  holdMs?: number;
  /** Go at once (default), or wait for `go(startAt)`. */
  manualStart?: boolean;
}) {
  const proc = spawn(
    process.execPath,
    [
      childScript,
      args.dir,
      args.mode ?? 'race',
      String(args.waitMs ?? 0),
      String(args.staleMs ?? 60_000),
      String(args.holdMs ?? 0),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const go = (startAt: number) => proc.stdin!.end(`${startAt}\n`);
  if (!args.manualStart) go(0);
  children.push(proc);
  const lines: Line[] = [];
  let buffer = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      lines.push(JSON.parse(buffer.slice(0, nl)) as Line);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const waitFor = async (event: string, timeoutMs = 30_000): Promise<Line> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => l.event === event);
      if (found) return found;
      if (proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`child never said "${event}": ${JSON.stringify(lines)} ${stderr}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { proc, lines, waitFor, exited, go, stderr: () => stderr };
}

describe('acquireLock across real processes', () => {
  it('of processes racing for the same folder, exactly one wins; the others get LOCKED', async () => {
    const dir = tempDir();
    const racers = Array.from({ length: 6 }, () =>
      runChild({ dir, holdMs: 600, manualStart: true }),
    );
    await Promise.all(racers.map((r) => r.waitFor('ready')));
    const startAt = Date.now() + 100;
    for (const r of racers) r.go(startAt);
    await Promise.all(racers.map((r) => r.exited));
    const outcomes = racers.map((r) => r.lines.find((l) => l.event !== 'ready')?.event);
    expect(
      outcomes.filter((o) => o === 'acquired'),
      JSON.stringify(outcomes),
    ).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'locked')).toHaveLength(5);
    // The winner released: nothing is left.
    expect(() => readFileSync(join(dir, '.lifeboat', 'lock'))).toThrow();
  });

  it('a process that waits gets the lock once the other process releases it', async () => {
    const dir = tempDir();
    const waiter = runChild({ dir, waitMs: 20_000, manualStart: true });
    const holder = runChild({ dir, holdMs: 1200 });
    await Promise.all([holder.waitFor('acquired'), waiter.waitFor('ready')]);
    waiter.go(0);
    const waiting = await waiter.waitFor('waiting');
    expect(waiting.owner).toBe(`${hostname()}:${holder.proc.pid}`);
    const acquired = await waiter.waitFor('acquired');
    const releasing = await holder.waitFor('releasing');
    expect(acquired.t).toBeGreaterThanOrEqual(releasing.t);
    expect(waiter.lines.filter((l) => l.code === 'STALE_LOCK')).toEqual([]);
    await holder.exited;
    await waiter.exited;
  });

  it('a lock left by a process killed with SIGKILL is taken over at once (its pid is gone)', async () => {
    const dir = tempDir();
    const holder = runChild({ dir, mode: 'hold' });
    await holder.waitFor('acquired');
    const storage = localStorage({ dir });
    await storage.connect();
    // While it lives, it holds.
    await lockedError(acquireLock(storage, opts()));
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const { events, warnings } = recorder();
    // staleMs is 10 minutes: only the dead pid makes it stale.
    const lock = await acquireLock(storage, opts({ staleMs: 600_000, events }));
    expect(warnings.map((w) => w.code)).toEqual(['STALE_LOCK']);
    expect(warnings[0]!.message).toContain(`its process ${holder.proc.pid} is gone`);
    await lock.release();
  });

  it('of processes racing to take over a dead process’s lock, exactly one wins', async () => {
    const dir = tempDir();
    const holder = runChild({ dir, mode: 'hold' });
    await holder.waitFor('acquired');
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const racers = Array.from({ length: 6 }, () =>
      runChild({ dir, holdMs: 600, staleMs: 600_000, manualStart: true }),
    );
    await Promise.all(racers.map((r) => r.waitFor('ready')));
    const startAt = Date.now() + 100;
    for (const r of racers) r.go(startAt);
    await Promise.all(racers.map((r) => r.exited));
    const all = racers.flatMap((r) => r.lines);
    const outcomes = racers.map((r) => r.lines.find((l) => /acquired|locked|error/.test(l.event)));
    expect(
      outcomes.filter((o) => o?.event === 'acquired'),
      JSON.stringify(all),
    ).toHaveLength(1);
    expect(
      outcomes.filter((o) => o?.event === 'locked'),
      JSON.stringify(all),
    ).toHaveLength(5);
    expect(all.filter((l) => l.code === 'STALE_LOCK')).toHaveLength(1);
  });

  it('a frozen process (SIGSTOP) stops refreshing; its lock is taken over after staleMs', async () => {
    const dir = tempDir();
    const holder = runChild({ dir, mode: 'hold', staleMs: 600 });
    await holder.waitFor('acquired');
    holder.proc.kill('SIGSTOP');
    const storage = localStorage({ dir });
    await storage.connect();
    const { events, warnings, waiting } = recorder();
    const started = Date.now();
    const lock = await acquireLock(storage, opts({ waitMs: 10_000, staleMs: 600, events }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(waiting).toHaveLength(1);
    expect(warnings.map((w) => w.code)).toEqual(['STALE_LOCK']);
    expect(warnings[0]!.message).toMatch(/not refreshed/);
    holder.proc.kill('SIGKILL');
    await holder.exited;
    expect((await readLockRecord(storage)).pid).toBe(process.pid);
    await lock.release();
  });
});

/* ------------------------------------------------------ backup and prune */

function gatedSource() {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let entered!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  const source: Source = {
    ...fileSource({}).source,
    id: 'slow',
    async backup(ctx) {
      entered();
      await gate;
      await ctx.emit({ path: 'a.txt', type: 'file', size: 1, body: () => Readable.from(['a']) });
      return { files: 1 };
    },
  };
  return { source, open, inside };
}

describe('backup and prune exclude each other', () => {
  it('a prune or a second backup during a backup fails with LOCKED; afterwards both work', async () => {
    const dir = tempDir();
    const { source, open, inside } = gatedSource();
    const a = createEngine({ sources: [source], storage: localStorage({ dir }) });
    const b = createEngine({
      sources: [fileSource({ 'b.txt': 'b' }).source],
      storage: localStorage({ dir }),
    });
    const sent: string[] = [];
    const notifier: Notifier = {
      id: 'recorder',
      describe: () => 'recorder',
      async notify(event) {
        sent.push(event.kind);
      },
    };
    const c = createEngine({
      sources: [fileSource({ 'c.txt': 'c' }).source],
      storage: localStorage({ dir }),
      notifiers: [notifier],
    });
    const running = a.backup();
    await inside;
    const pruneError = await lockedError(b.prune());
    expect(pruneError.message).toContain('Another backup');
    await lockedError(c.backup());
    // One run that found the lock taken is not mailed (the other run is doing the job).
    expect(sent).toEqual([]);
    // A dry run only reads: it works during the backup.
    await expect(b.prune({ dryRun: true })).resolves.toMatchObject({ dryRun: true });
    open();
    const result = await running;
    expect(result.id).toMatch(/^critical_backup_/);
    await expect(b.prune()).resolves.toMatchObject({ deleted: [] });
    await expect(c.backup()).resolves.toMatchObject({ storage: dir });
    expect(sent).toEqual(['backup:succeeded']);
    // It is recorded as refused for the lock, and nothing else failed.
    expect((await c.history()).filter((r) => !r.ok).map((r) => r.error?.code)).toEqual(['LOCKED']);
    expect((await c.status()).lockedInARow).toBe(0);
  });

  it('a backup during a prune fails with LOCKED', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [fileSource({ 'a.txt': 'a' }).source], storage });
    // The lock a running prune holds.
    const pruneLock = await acquireLock(storage, opts({ operation: 'prune' }));
    const e = await lockedError(engine.backup());
    expect(e.message).toContain('Another prune');
    expect(await engine.list()).toEqual([]);
    await pruneLock.release();
    await expect(engine.backup()).resolves.toBeDefined();
  });

  it('waits for the other run when lock.waitMs allows it', async () => {
    const storage = memoryStorage();
    const engine = createEngine({
      sources: [fileSource({ 'a.txt': 'a' }).source],
      storage,
      lock: { waitMs: 5000, staleMs: 60_000 },
    });
    const waits: unknown[] = [];
    engine.events.on('lock:waiting', (w) => waits.push(w));
    const pruneLock = await acquireLock(storage, opts({ operation: 'prune' }));
    setTimeout(() => void pruneLock.release(), 300);
    const result = await engine.backup();
    expect(result.id).toBeDefined();
    expect(waits).toHaveLength(1);
  });
});
