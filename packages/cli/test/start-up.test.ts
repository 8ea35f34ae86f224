import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOL_VERSION } from '@lifeboat/core';
import { createDatabase, embeddedServer, sql, uniqueName } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * Start-up cost (issue 16): a command loads what it uses. `--version` loads no bundle at all; a
 * backup and a one-table restore on local storage load neither the S3 SDK nor the notifiers (nor
 * node:tls when the server takes no SSL), and
 * the bundle carries zod's English messages only. What is loaded is recorded by module hooks
 * (fixtures/record-loads.mjs); the bundle's chunks name the sources they hold (esbuild writes
 * `// path` before each), which tells what a loaded chunk is.
 */
const bundleDir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
const recorder = fileURLToPath(new URL('./fixtures/record-loads.mjs', import.meta.url));
const server = embeddedServer;
let work: string;
let db: string;
let env: Record<string, string>;

/** The bundle's chunks, each with the source paths it holds. */
async function chunks(): Promise<Map<string, string[]>> {
  const all = new Map<string, string[]>();
  for (const name of await fs.readdir(bundleDir)) {
    if (!name.endsWith('.js')) continue;
    const text = await fs.readFile(join(bundleDir, name), 'utf8');
    all.set(
      name,
      [...text.matchAll(/^\/\/ (\S+\.(?:[cm]?js|ts))$/gm)].map((m) => m[1]!),
    );
  }
  return all;
}

/** Runs the command with the recorder; returns the bundle chunks it loaded. */
async function loadedChunks(args: string[], extra: Record<string, string> = {}) {
  const out = join(work, `loads-${uniqueName('x')}.txt`);
  const result = await runCli(args, {
    ...env,
    ...extra,
    NODE_OPTIONS: `--import ${recorder}`,
    LIFEBOAT_RECORD_LOADS: out,
  });
  expect(result.code, result.stderr).toBe(0);
  const urls = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return {
    result,
    urls,
    builtins: urls.filter((u) => u.startsWith('builtin:')).map((u) => u.slice('builtin:'.length)),
    bundle: urls
      .filter((u) => u.startsWith('file:') && fileURLToPath(u).startsWith(bundleDir))
      .map((u) => fileURLToPath(u).slice(bundleDir.length)),
  };
}

// The plugins' `fields` entries are loaded, and only them: settings check their values with them.
const UNUSED_ON_LOCAL = [
  /@aws-sdk/,
  /@smithy/,
  /storage-s3\/(?!src\/fields\.ts$)/,
  /nodemailer/,
  /notifier-(smtp|webhook)\/(?!src\/fields\.ts$)/,
];

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'startup');
  await sql(
    server,
    db,
    `CREATE TABLE small (id int PRIMARY KEY, name text);
     INSERT INTO small SELECT g, md5(g::text) FROM generate_series(1, 40) g;
     CREATE TABLE big (id int PRIMARY KEY, body text);
     INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-startup-'));
  env = {
    DATABASE_URL: `postgres://postgres:${encodeURIComponent(server.password!)}@127.0.0.1:${server.port}/${db}`,
    BACKUP_DIR: join(work, 'backups'),
  };
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('start-up: a command loads what it uses', () => {
  it('--version and -V answer without loading the bundle', async () => {
    for (const flag of ['--version', '-V']) {
      const { result, urls, bundle } = await loadedChunks([flag]);
      expect(result.stdout).toBe(`${TOOL_VERSION}\n`);
      // The recorder saw bin.js itself: it was working.
      expect(urls.some((u) => u.endsWith('/dist/bin.js'))).toBe(true);
      expect(bundle).toEqual([]);
    }
  });

  it('a backup and a one-table restore on local storage load no S3 SDK and no notifier', async () => {
    const all = await chunks();
    const runs = [
      await loadedChunks(['backup', '--json']),
      await loadedChunks([
        'restore',
        'latest',
        '--tables',
        'small',
        '--as-suffix',
        '_r',
        '--in-place',
        '--json',
      ]),
    ];
    const rows = await sql<{ n: string }>(server, db, 'SELECT count(*) AS n FROM small_r');
    expect(Number(rows[0]!.n)).toBe(40);
    for (const { bundle, builtins } of runs) {
      // No SSL to this server (it refuses it): node:tls is never loaded (3-9 ms of start-up).
      expect(builtins).toContain('net');
      expect(builtins.filter((b) => /^_?tls/.test(b))).toEqual([]);
      const sources = bundle.flatMap((c) => all.get(c) ?? []);
      // The run did load the bundle, the PostgreSQL plugin and local storage.
      expect(sources.some((s) => s.includes('plugin-postgres/src'))).toBe(true);
      expect(sources.some((s) => s.includes('storage-local/src'))).toBe(true);
      for (const unused of UNUSED_ON_LOCAL)
        expect(sources.filter((s) => unused.test(s))).toEqual([]);
    }
    // The S3 SDK is in the bundle, in chunks of its own: the check above could fail.
    expect([...all.values()].flat().some((s) => /@aws-sdk/.test(s))).toBe(true);
  });

  it("the bundle carries zod's English messages only", async () => {
    const sources = [...(await chunks()).values()].flat();
    const locales = sources.filter((s) => /zod\/v4\/locales\//.test(s));
    expect(locales.some((s) => s.endsWith('/en.js'))).toBe(true);
    expect(locales.filter((s) => !/\/(en|index)\.js$/.test(s))).toEqual([]);
  });
});
