import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDatabase, servers, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
/** The local PostgreSQL 15 when it answers, else the embedded one. */
const server = servers[0]!;
let work: string;
let db: string;

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'packed');
  await sql(
    server,
    db,
    'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 7);',
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-packed-'));
}, 120_000);
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

// The CLI installs without the repository: the tarball `npm pack` makes (needs `pnpm build`
// first) goes into an empty prefix, and the command it installs backs up a real database.
it('npm pack, npm install into an empty prefix: lifeboat --version and a backup run', async () => {
  const env = { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' };
  const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: PACKAGE,
    env,
  });
  const [pack] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
  const { filename, files } = pack!;
  // Only the built command: no sources, no source maps.
  expect(files.every((f) => !f.path.startsWith('src/') && !f.path.endsWith('.map'))).toBe(true);
  const prefix = join(work, 'prefix');
  await fs.mkdir(prefix);
  await run(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, filename),
    ],
    { cwd: work, env },
  );
  // Nothing of the workspace came along: the package has no dependency to fetch.
  expect(await fs.readdir(join(prefix, 'node_modules'))).toEqual([
    '.bin',
    '.package-lock.json',
    '@lifeboat',
  ]);
  expect(await fs.readdir(join(prefix, 'node_modules', '@lifeboat'))).toEqual(['cli']);
  const bin = join(prefix, 'node_modules', '.bin', 'lifeboat');
  const { stdout: version } = await run(bin, ['--version'], { cwd: work });
  expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  const password = server.password ? `:${encodeURIComponent(server.password)}` : '';
  const { stdout } = await run(bin, ['backup', '--json'], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: work,
      DATABASE_URL: `postgres://${server.user}${password}@${server.host}:${server.port}/${db}`,
      BACKUP_DIR: join(work, 'backups'),
    },
  });
  const result = JSON.parse(stdout) as { file: string; tables: { name: string; rows: number }[] };
  expect(result.tables).toEqual([expect.objectContaining({ name: 'public.t', rows: 7 })]);
  expect(await fs.readdir(join(work, 'backups'))).toContain(result.file);
}, 180_000);
