// `pnpm bench`: Lifeboat against pg_dump / pg_restore and the raw COPY floor, on the same machine
// in the same run. Commands alternate over rounds; medians are reported with wall time, CPU time
// (user+sys of the client process, and of every server process when the server runs on this
// machine and its data directory is readable), peak RSS and output size, and the ratios are
// written as JSON.
//
//   pnpm bench [--scale 10] [--rounds 3] [--many-tables] [--skip-restore] [--one-table] [--skip-s3]
//              [--skip-memory-cap] [--memory-cap 64MiB] [--memory-cap-only] [--db NAME] [--out FILE] [--host 127.0.0.1 --port 5432]
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'many-tables': { type: 'boolean', default: false },
    'skip-restore': { type: 'boolean', default: false },
    // Only the one-table restore (from one backup): the partial read against pg_restore -t.
    'one-table': { type: 'boolean', default: false },
    // The small-container step: one backup and one restore with BACKUP_MEMORY_LIMIT set.
    'memory-cap': { type: 'string', default: '64MiB' },
    'skip-memory-cap': { type: 'boolean', default: false },
    // Only the small-container step (after one default backup, whose archive the capped restore reads).
    'memory-cap-only': { type: 'boolean', default: false },
    // The one-table restore from S3 (s3rver) too, unless this is given.
    'skip-s3': { type: 'boolean', default: false },
    host: { type: 'string', default: process.env.PGHOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.PGPORT ?? '5432' },
    user: { type: 'string', default: process.env.PGUSER ?? 'postgres' },
    out: { type: 'string' },
    // An existing dataset database of another name (built as below, with a bench_ready table).
    db: { type: 'string' },
  },
});
const scale = Number(args.scale);
const rounds = Number(args.rounds);
const pgEnv = { ...process.env, PGHOST: args.host, PGPORT: args.port, PGUSER: args.user };
const psql = (db, sql) =>
  execFileSync('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], {
    env: pgEnv,
    encoding: 'utf8',
  }).trim();
const hasTime = existsSync('/usr/bin/time');
const work = mkdtempSync(join(tmpdir(), 'lifeboat-bench-'));
const cli = join(root, 'packages/cli/dist/bin.js');
const floorScript = join(root, 'bench/copy-floor.mjs');

const say = (s) => process.stderr.write(`${s}\n`);

function dirBytes(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + dirBytes(join(path, f)), 0);
}

/** The local server's postmaster, when its data directory is readable here (else null). */
function findPostmaster() {
  try {
    if (!['127.0.0.1', 'localhost', '::1'].includes(args.host)) return null;
    const dir = psql('postgres', 'SHOW data_directory');
    const lines = readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n');
    // The server we talk to, not another one that happens to use the same data directory path.
    if (Number(lines[3]) !== Number(args.port)) return null;
    const pid = Number(lines[0]);
    serverTicks(pid);
    return pid;
  } catch {
    return null;
  }
}

/**
 * CPU ticks of every server process so far: the postmaster, its live children, and the children
 * it has reaped (their CPU is added to its cutime/cstime), so exited backends count too.
 */
function serverTicks(pid) {
  // Fields after "(comm) ": index 11/12 = utime/stime, 13/14 = cutime/cstime.
  const stat = (p) => {
    const text = readFileSync(`/proc/${p}/stat`, 'utf8');
    return text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  };
  const own = stat(pid);
  let ticks = own[11] + own[12] + own[13] + own[14];
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  for (const child of children ? children.split(/\s+/) : []) {
    try {
      const f = stat(child);
      ticks += f[11] + f[12];
    } catch {
      // Gone between the list and the read: counted by the postmaster once reaped.
    }
  }
  return ticks;
}
const TICK_MS = 10;
let postmaster = null;

/** The process and every process under it (through /proc's children lists). */
function descendants(pid) {
  const all = [];
  const walk = (p) => {
    all.push(p);
    try {
      const kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(/\s+/) : []) walk(Number(k));
    } catch {
      // Gone meanwhile.
    }
  };
  if (pid) walk(pid);
  return all;
}

/**
 * Runs a command under /usr/bin/time; returns wall ms, cpu ms, server cpu ms, peak RSS bytes and
 * peak anonymous RSS bytes. `prefix` runs it under another command (systemd-run …); `stdout`
 * keeps what it prints.
 */
function measure(cmd, argv, env = pgEnv, options = {}) {
  const keepStdout = options.stdout === true;
  return new Promise((resolve, reject) => {
    const serverBefore = postmaster ? serverTicks(postmaster) : null;
    const timeFile = join(work, 'time.txt');
    const full = hasTime
      ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...argv]]
      : [cmd, argv];
    const started = performance.now();
    const prefix = options.prefix ?? [];
    const argv0 = prefix.length ? prefix[0] : full[0];
    const child = spawn(
      argv0,
      [...prefix.slice(1), ...(prefix.length ? [full[0]] : []), ...full[1]],
      {
        env,
        stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
      },
    );
    // Peak anonymous memory (heap, buffers: what a container's memory limit charges for sure;
    // the node binary's pages are file-backed and shared), sampled every 10 ms.
    let anonKb = 0;
    const sampler = setInterval(() => {
      for (const pid of descendants(child.pid)) {
        try {
          const m = /RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (m) anonKb = Math.max(anonKb, Number(m[1]));
        } catch {
          // Gone meanwhile.
        }
      }
    }, 10);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => {
      clearInterval(sampler);
      const wallMs = performance.now() - started;
      if (code !== 0)
        return reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      let cpuMs = null;
      let rssBytes = null;
      if (hasTime) {
        const [, user, sys, rssKb] = execFileSync('cat', [timeFile], { encoding: 'utf8' })
          .trim()
          .split(/\s+/)
          .map(Number);
        cpuMs = (user + sys) * 1000;
        rssBytes = rssKb * 1024;
      }
      let serverCpuMs = null;
      try {
        if (postmaster) serverCpuMs = (serverTicks(postmaster) - serverBefore) * TICK_MS;
      } catch {
        // The server restarted meanwhile: no figure rather than a wrong one.
      }
      resolve({
        wallMs,
        cpuMs,
        serverCpuMs,
        rssBytes,
        anonBytes: anonKb ? anonKb * 1024 : null,
        ...(keepStdout ? { stdout: out } : {}),
      });
    });
  });
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function ensureDataset(db) {
  const exists = psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`) === '1';
  if (exists && psql(db, "SELECT to_regclass('public.bench_ready') IS NOT NULL") === 't') {
    say(`reusing database ${db}`);
    return;
  }
  if (exists) psql('postgres', `DROP DATABASE ${db}`);
  psql('postgres', `CREATE DATABASE ${db}`);
  say(
    `building ${db}${args['many-tables'] ? ' (5,000 tables × 100 rows)' : ` at scale ${scale}`} …`,
  );
  if (args['many-tables']) {
    // In batches: one transaction creating 5,000 tables runs out of lock slots.
    for (let from = 1; from <= 5000; from += 250) {
      psql(
        db,
        `DO $$ BEGIN FOR i IN ${from}..${from + 249} LOOP
        EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, name text NOT NULL, amount numeric(12,2), at timestamptz)', i);
        EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text), g * 1.5, timestamptz ''2025-01-01'' + g * interval ''1 minute'' FROM generate_series(1, 100) g', i);
      END LOOP; END $$`,
      );
    }
  } else {
    execFileSync(
      'psql',
      [
        '-X',
        '-q',
        '-v',
        `scale=${scale}`,
        '-d',
        db,
        '-f',
        join(root, 'examples/demo/smart-ai-hub.sql'),
      ],
      { env: pgEnv, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  psql(db, 'VACUUM ANALYZE');
  psql(db, 'CREATE TABLE bench_ready (at timestamptz DEFAULT now())');
}

let ageRecipient;

const loadAtStart = loadavg()[0];

async function main() {
  const { generateAgeIdentity } = await import(join(root, 'packages/core/dist/index.js'));
  ageRecipient = (await generateAgeIdentity()).recipient;
  const db = args.db
    ? args.db
    : args['many-tables']
      ? 'lifeboat_bench_many'
      : `lifeboat_bench_s${String(scale).replace('.', '_')}`;
  ensureDataset(db);
  postmaster = findPostmaster();
  if (!postmaster) say('server CPU is not measured: the server is not local or not readable here');
  const url = `postgres://${args.user}@${args.host}:${args.port}/${db}`;
  const dataBytes = Number(
    psql(
      db,
      "SELECT sum(pg_table_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'",
    ),
  );
  const serverVersion = psql(db, 'SHOW server_version');
  const clientVersion = execFileSync('pg_dump', ['--version'], { encoding: 'utf8' }).trim();
  say(
    `table data: ${(dataBytes / 1024 / 1024).toFixed(0)} MiB, server ${serverVersion}, ${clientVersion}`,
  );

  const backupCases = {
    'pg_dump -Fc': async (i) => {
      const out = join(work, `dump${i}.fc`);
      const m = await measure('pg_dump', ['-Fc', '-f', out, db]);
      return { ...m, bytes: dirBytes(out), keep: out };
    },
    'pg_dump -Fd -j2': async (i) => {
      const out = join(work, `dump${i}.dir`);
      const m = await measure('pg_dump', ['-Fd', '-j', '2', '-f', out, db]);
      const bytes = dirBytes(out);
      rmSync(out, { recursive: true, force: true });
      return { ...m, bytes };
    },
    'raw COPY floor (2 conns)': async () => ({
      ...(await measure(process.execPath, [floorScript, url, '2'])),
      bytes: null,
    }),
    'lifeboat backup (age)': async (i) => {
      // Encrypted to an age recipient: the whole archive stream goes through age as it is made.
      const dir = join(work, `lbage${i}`);
      const m = await measure(process.execPath, [cli, 'backup', '--quiet'], {
        ...pgEnv,
        DATABASE_URL: url,
        BACKUP_DIR: dir,
        BACKUP_ENCRYPTION_RECIPIENTS: ageRecipient,
      });
      const bytes = dirBytes(dir) - dirBytes(join(dir, '.lifeboat'));
      rmSync(dir, { recursive: true, force: true });
      return { ...m, bytes };
    },
    'lifeboat backup': async (i) => {
      const dir = join(work, `lb${i}`);
      const m = await measure(process.execPath, [cli, 'backup', '--quiet'], {
        ...pgEnv,
        DATABASE_URL: url,
        BACKUP_DIR: dir,
        BACKUP_KEEP_LAST: '5',
      });
      return { ...m, bytes: dirBytes(dir) - dirBytes(join(dir, '.lifeboat')), keep: dir };
    },
  };
  if (args['one-table']) {
    for (const name of Object.keys(backupCases))
      if (name !== 'pg_dump -Fc' && name !== 'lifeboat backup') delete backupCases[name];
  }
  const capOnly = args['memory-cap-only'];
  if (capOnly) {
    for (const name of Object.keys(backupCases))
      if (name !== 'lifeboat backup') delete backupCases[name];
  }
  const results = Object.fromEntries(Object.keys(backupCases).map((k) => [k, []]));
  let lastDump;
  let lastLifeboat;
  for (let r = 0; r < (capOnly ? 1 : rounds); r++) {
    // Alternate the order each round so cache warmth favours no one.
    const names = Object.keys(backupCases);
    const order = r % 2 ? names.reverse() : names;
    for (const name of order) {
      const m = await backupCases[name](r);
      results[name].push(m);
      say(
        `round ${r + 1} ${name}: ${(m.wallMs / 1000).toFixed(2)} s${m.bytes ? `, ${(m.bytes / 1024 / 1024).toFixed(1)} MiB` : ''}`,
      );
      if (name === 'pg_dump -Fc') {
        if (lastDump && lastDump !== m.keep) rmSync(lastDump, { force: true });
        lastDump = m.keep;
      }
      if (name === 'lifeboat backup') {
        if (lastLifeboat && lastLifeboat !== m.keep)
          rmSync(lastLifeboat, { recursive: true, force: true });
        lastLifeboat = m.keep;
      }
    }
  }
  if (!args['many-tables'] && !capOnly) await oneTable(results, db, url, lastDump, lastLifeboat);
  if (!args['skip-restore'] && !args['one-table'] && !capOnly) {
    results['pg_restore -j2'] = [];
    results['lifeboat restore'] = [];
    // The part of it that puts planner statistics back (ANALYZE on a server before 18, the
    // import from 18), as the restore's --json result reports it.
    results['  of which statistics'] = [];
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2
        ? ['lifeboat restore', 'pg_restore -j2']
        : ['pg_restore -j2', 'lifeboat restore']) {
        const target = `lifeboat_bench_restore_${r}`;
        psql('postgres', `DROP DATABASE IF EXISTS ${target}`);
        let m;
        if (name === 'pg_restore -j2') {
          // From no database to a restored one, as for Lifeboat (which creates its target): the
          // createdb is timed too.
          m = await measure('sh', [
            '-c',
            'createdb -T template0 "$1" && exec pg_restore -j 2 -d "$1" "$2"',
            'sh',
            target,
            lastDump,
          ]);
        } else {
          m = await measure(
            process.execPath,
            [cli, 'restore', 'latest', '--only', 'database', '--target-database', target, '--json'],
            {
              ...pgEnv,
              DATABASE_URL: url,
              BACKUP_DIR: lastLifeboat,
            },
            { stdout: true },
          );
          const restored = JSON.parse(m.stdout);
          const statistics = restored.sections?.find((x) => x.section === 'database')?.summary
            ?.statistics;
          results['  of which statistics'].push({
            wallMs: statistics?.durationMs ?? null,
            cpuMs: null,
            serverCpuMs: null,
            rssBytes: null,
            bytes: null,
          });
          delete m.stdout;
        }
        results[name].push({ ...m, bytes: null });
        say(`round ${r + 1} ${name}: ${(m.wallMs / 1000).toFixed(2)} s`);
        psql('postgres', `DROP DATABASE IF EXISTS ${target}`);
      }
    }
  }
  let memoryCap = null;
  if (!args['skip-restore'] && !args['one-table'] && !args['skip-memory-cap']) {
    memoryCap = await cappedRuns(results, url, lastLifeboat);
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, ms]) => [
      name,
      {
        wallMs: Math.round(median(ms.map((m) => m.wallMs))),
        cpuMs: median(ms.map((m) => m.cpuMs)),
        serverCpuMs: median(ms.map((m) => m.serverCpuMs)),
        peakRssMiB: ms[0]?.rssBytes
          ? Math.round(median(ms.map((m) => m.rssBytes)) / 1024 / 1024)
          : null,
        peakAnonMiB: ms[0]?.anonBytes
          ? Math.round(median(ms.map((m) => m.anonBytes)) / 1024 / 1024)
          : null,
        bytes: median(ms.map((m) => m.bytes)),
        runs: ms.map((m) => Math.round(m.wallMs)),
      },
    ]),
  );
  const w = (n) => summary[n]?.wallMs;
  const ratio = (a, b) => (a && b ? Math.round((a / b) * 1000) / 1000 : null);
  const sc = (n) => summary[n]?.serverCpuMs;
  const ratios = {
    'lifeboat / pg_dump -Fc': ratio(w('lifeboat backup'), w('pg_dump -Fc')),
    'lifeboat / pg_dump -Fd -j2': ratio(w('lifeboat backup'), w('pg_dump -Fd -j2')),
    'lifeboat / raw COPY floor': ratio(w('lifeboat backup'), w('raw COPY floor (2 conns)')),
    'lifeboat restore / pg_restore -j2': ratio(w('lifeboat restore'), w('pg_restore -j2')),
    'statistics / lifeboat restore': ratio(w('  of which statistics'), w('lifeboat restore')),
    'one table: lifeboat / pg_restore -t': ratio(
      w('lifeboat restore --tables (1 table)'),
      w('pg_restore -t (1 table)'),
    ),
    'one table from S3: lifeboat / pg_restore -t': ratio(
      w('lifeboat restore --tables (1 table, S3)'),
      w('pg_restore -t (1 table)'),
    ),
    'archive bytes / pg_dump -Fc bytes': ratio(
      summary['lifeboat backup']?.bytes,
      summary['pg_dump -Fc']?.bytes,
    ),
    'lifeboat (age) / lifeboat': ratio(w('lifeboat backup (age)'), w('lifeboat backup')),
    'server CPU: lifeboat restore / pg_restore -j2': ratio(
      sc('lifeboat restore'),
      sc('pg_restore -j2'),
    ),
  };
  const report = {
    case: args['many-tables'] ? 'many-tables (5000 × 100 rows)' : `smart-ai-hub scale ${scale}`,
    date: new Date().toISOString(),
    machine: {
      host: hostname(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      // The 1-minute load average: on a shared machine wall times mean little without it.
      loadAverage: { start: Number(loadAtStart.toFixed(1)), end: Number(loadavg()[0].toFixed(1)) },
    },
    server: serverVersion,
    client: clientVersion,
    tableDataMiB: Math.round(dataBytes / 1024 / 1024),
    rounds,
    ...(memoryCap ? { memoryCap } : {}),
    results: summary,
    ratios,
  };
  const rows = Object.entries(summary).map(
    ([n, s]) =>
      `${n.padEnd(26)} ${(s.wallMs / 1000).toFixed(2).padStart(8)} s ${s.cpuMs === null ? '' : `${(s.cpuMs / 1000).toFixed(2).padStart(8)} s cpu`} ${s.serverCpuMs === null ? '' : `${(s.serverCpuMs / 1000).toFixed(2).padStart(8)} s server`} ${s.peakRssMiB === null ? '' : `${String(s.peakRssMiB).padStart(6)} MiB rss`} ${s.peakAnonMiB === null ? '' : `${String(s.peakAnonMiB).padStart(4)} MiB anon`} ${s.bytes ? `${(s.bytes / 1024 / 1024).toFixed(1).padStart(8)} MiB` : ''}`,
  );
  process.stdout.write(
    `\n${report.case}, ${report.tableDataMiB} MiB of table data, medians of ${rounds}\n${rows.join('\n')}\n\n${Object.entries(
      ratios,
    )
      .map(([k, v]) => `${k.padEnd(36)} ${v}`)
      .join('\n')}\n`,
  );
  const out =
    args.out ??
    join(root, 'bench/results', `${args['many-tables'] ? 'many-tables' : `scale-${scale}`}.json`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${out}`);
}

/**
 * A memory cgroup of `capMiB` for the capped step, as a child of this process's own cgroup (no
 * systemd needed): cgroup v2 (memory.max, memory.swap.max = 0) where the v2 tree has the memory
 * controller, else v1 (memory.limit_in_bytes and memory.memsw.limit_in_bytes, so nothing goes to
 * swap). The limit is proven before use: a process allocating past it must be killed there.
 * Returns the command prefix that runs a command inside it, what to read afterwards, and how to
 * remove it; null (with the reason said) when cgroups are not writable here.
 */
function memoryCgroup(capMiB) {
  const bytes = String(capMiB * 1024 * 1024);
  const own = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');
  const mountOf = (fsType, option) =>
    mounts
      .map((l) => l.split(' '))
      .find((f) => {
        const dash = f.indexOf('-');
        return f[dash + 1] === fsType && (!option || f[dash + 3]?.split(',').includes(option));
      })?.[4];
  const tries = [];
  const v2 = mountOf('cgroup2');
  const v2path = own.find((l) => l.startsWith('0::'))?.slice(3);
  if (v2 && v2path !== undefined) {
    const parent = join(v2, v2path);
    const controllers = existsSync(join(parent, 'cgroup.controllers'))
      ? readFileSync(join(parent, 'cgroup.controllers'), 'utf8')
      : '';
    if (controllers.split(/\s+/).includes('memory'))
      tries.push({
        kind: 'cgroup v2',
        parent,
        files: [
          ['memory.max', bytes],
          ['memory.swap.max', '0'],
        ],
        peak: 'memory.peak',
      });
    else tries.push({ kind: 'cgroup v2', skip: `no memory controller in ${parent}` });
  }
  const v1 = mountOf('cgroup', 'memory');
  const v1path = own.find((l) => /^\d+:memory:/.test(l))?.replace(/^\d+:memory:/, '');
  if (v1 && v1path !== undefined)
    tries.push({
      kind: 'cgroup v1',
      parent: join(v1, v1path),
      files: [
        ['memory.limit_in_bytes', bytes],
        ['memory.memsw.limit_in_bytes', bytes],
      ],
      peak: 'memory.max_usage_in_bytes',
    });
  const reasons = [];
  for (const t of tries) {
    if (t.skip) {
      reasons.push(`${t.kind}: ${t.skip}`);
      continue;
    }
    const dir = join(t.parent, `lifeboat-bench-${process.pid}`);
    try {
      mkdirSync(dir);
      for (const [file, value] of t.files) {
        if (file === 'memory.memsw.limit_in_bytes' && !existsSync(join(dir, file))) continue;
        writeFileSync(join(dir, file), value);
      }
      const prefix = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir];
      // Proof: 2x the cap of live buffers must not survive in there.
      let killed = false;
      try {
        execFileSync(
          prefix[0],
          [
            ...prefix.slice(1),
            process.execPath,
            '-e',
            `const a = []; for (let i = 0; i < ${capMiB * 2}; i++) a.push(Buffer.alloc(1 << 20, 1)); console.log(a.length)`,
          ],
          { stdio: 'ignore' },
        );
      } catch (error) {
        killed = error.signal === 'SIGKILL';
      }
      if (!killed) throw new Error(`a process allocating ${capMiB * 2} MiB was not stopped`);
      const read = (file) => {
        try {
          return Number(readFileSync(join(dir, file), 'utf8').trim());
        } catch {
          return null;
        }
      };
      // The proof's own peak is not the commands': reset it where the kernel allows.
      const resetPeak = () => {
        try {
          writeFileSync(join(dir, t.peak), '0');
        } catch {
          // memory.peak (v2) cannot be reset: each command then gets its own child group.
        }
      };
      const oomKills = () => {
        if (t.kind === 'cgroup v1') {
          const m = /oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.oom_control'), 'utf8'));
          return m ? Number(m[1]) : null;
        }
        const m = /oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.events'), 'utf8'));
        return m ? Number(m[1]) : null;
      };
      return {
        enforcement: `${t.kind} memory limit ${capMiB} MiB, no swap (${dir}; proven: a process allocating ${capMiB * 2} MiB was killed)`,
        prefix,
        peakBytes: () => read(t.peak),
        resetPeak,
        oomKills,
        remove: () => {
          try {
            rmSync(dir, { recursive: false, force: true });
          } catch {
            // rmdir of a cgroup: fs.rmdirSync below.
          }
          try {
            execFileSync('rmdir', [dir], { stdio: 'ignore' });
          } catch {
            // Gone already.
          }
        },
      };
    } catch (error) {
      reasons.push(`${t.kind} at ${t.parent}: ${error.message}`);
      try {
        execFileSync('rmdir', [dir], { stdio: 'ignore' });
      } catch {
        // Never made.
      }
    }
  }
  say(`no cgroup memory limit here (${reasons.join('; ') || 'no cgroup mounted'})`);
  return null;
}

/**
 * A small container: one scale-N backup and one restore with BACKUP_MEMORY_LIMIT (64MiB by
 * default), each inside a memory cgroup of the same size (memoryCgroup above) when this machine
 * lets the bench make one; otherwise the peaks are measured and reported against the cap. An
 * address-space limit (`ulimit -v`) is no stand-in: Node reserves ~700 MiB of it at start.
 */
async function cappedRuns(results, url, archiveDir) {
  const cap = args['memory-cap'];
  const capMiB = Number(/^(\d+)/.exec(cap)?.[1] ?? 64);
  const group = memoryCgroup(capMiB);
  const prefix = group?.prefix ?? [];
  const env = { ...pgEnv, DATABASE_URL: url, BACKUP_MEMORY_LIMIT: cap };
  const dir = join(work, 'capped');
  const backupName = `lifeboat backup (${cap} cap)`;
  const restoreName = `lifeboat restore (${cap} cap)`;
  const outcome = async (name, run) => {
    group?.resetPeak();
    const before = group?.oomKills() ?? 0;
    try {
      const m = await run();
      return { name, completed: true, m, cgroupPeakBytes: group?.peakBytes() ?? null };
    } catch (error) {
      return {
        name,
        completed: false,
        error: error.message.slice(0, 300),
        oomKilled: group ? group.oomKills() > before : null,
      };
    }
  };
  const runs = [];
  try {
    runs.push(
      await outcome(backupName, () =>
        measure(
          process.execPath,
          [cli, 'backup', '--quiet'],
          { ...env, BACKUP_DIR: dir },
          { prefix },
        ),
      ),
    );
    if (runs[0].completed)
      results[backupName] = [
        { ...runs[0].m, bytes: dirBytes(dir) - dirBytes(join(dir, '.lifeboat')) },
      ];
    const target = 'lifeboat_bench_restore_capped';
    psql('postgres', `DROP DATABASE IF EXISTS ${target}`);
    // From the default backup's archive (4 MiB entries): what a small container meets in practice.
    runs.push(
      await outcome(restoreName, () =>
        measure(
          process.execPath,
          [cli, 'restore', 'latest', '--only', 'database', '--target-database', target, '--quiet'],
          { ...env, BACKUP_DIR: archiveDir },
          { prefix },
        ),
      ),
    );
    if (runs[1].completed) results[restoreName] = [{ ...runs[1].m, bytes: null }];
    psql('postgres', `DROP DATABASE IF EXISTS ${target}`);
  } finally {
    group?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const r of runs)
    say(
      `${r.name}: ${r.completed ? `${(r.m.wallMs / 1000).toFixed(2)} s, peak RSS ${(r.m.rssBytes / 1048576).toFixed(0)} MiB, cgroup peak ${r.cgroupPeakBytes ? (r.cgroupPeakBytes / 1048576).toFixed(0) : '?'} MiB` : `FAILED${r.oomKilled ? ' (killed by the memory limit)' : ''}: ${r.error}`}`,
    );
  const over = runs.filter((r) => r.completed && r.m.anonBytes > capMiB * 1024 * 1024);
  const verdict = {
    cap,
    enforcement: group?.enforcement ?? 'none here: peaks measured against the cap',
    completed: runs.every((r) => r.completed),
    runs: runs.map((r) => ({
      name: r.name,
      completed: r.completed,
      ...(r.completed
        ? {
            wallMs: Math.round(r.m.wallMs),
            peakRssMiB: r.m.rssBytes ? Math.round(r.m.rssBytes / 1048576) : null,
            peakAnonMiB: r.m.anonBytes ? Math.round(r.m.anonBytes / 1048576) : null,
            cgroupPeakMiB: r.cgroupPeakBytes ? Math.round(r.cgroupPeakBytes / 1048576) : null,
          }
        : { error: r.error, oomKilled: r.oomKilled }),
    })),
    ...(group ? {} : { withinCap: over.length === 0 }),
  };
  say(`memory cap: ${JSON.stringify(verdict)}`);
  return verdict;
}

/**
 * One small table back from the whole backup: `pg_restore -t` from the `pg_dump -Fc` file into a
 * scratch database against `lifeboat restore latest --tables … --as-suffix _r --in-place` (the guide's
 * partial recovery), which reads only the gzip members holding that table.
 */
async function oneTable(results, db, url, dump, archiveDir) {
  const table = 'ai_models';
  results['pg_restore -t (1 table)'] = [];
  results['lifeboat restore --tables (1 table)'] = [];
  const scratch = 'lifeboat_bench_one_table';
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2
      ? ['lifeboat restore --tables (1 table)', 'pg_restore -t (1 table)']
      : ['pg_restore -t (1 table)', 'lifeboat restore --tables (1 table)']) {
      let m;
      if (name.startsWith('pg_restore')) {
        psql('postgres', `DROP DATABASE IF EXISTS ${scratch}`);
        psql('postgres', `CREATE DATABASE ${scratch}`);
        m = await measure('pg_restore', ['-t', table, '-d', scratch, dump]);
      } else {
        m = await measure(
          process.execPath,
          // --in-place: a restore writes into the configured database only when told; --yes: from the
          // second round on, --clean replaces the _r table the round before made.
          [
            cli,
            'restore',
            'latest',
            '--tables',
            table,
            '--as-suffix',
            '_r',
            '--in-place',
            '--clean',
            '--yes',
            '--quiet',
          ],
          { ...pgEnv, DATABASE_URL: url, BACKUP_DIR: archiveDir },
        );
      }
      results[name].push({ ...m, bytes: null });
      say(`round ${r + 1} ${name}: ${(m.wallMs / 1000).toFixed(2)} s`);
    }
  }
  psql('postgres', `DROP DATABASE IF EXISTS ${scratch}`);
  psql(db, `DROP TABLE IF EXISTS ${table}_r`);
  if (!args['skip-s3']) await oneTableS3(results, db, url, table);
}

/**
 * The same one-table restore from S3: s3rver (from test-support, as the storage-s3 tests run it, files in a temp
 * folder) on this machine, one backup into it, then the partial restore through ranged GETs.
 */
async function oneTableS3(results, db, url, table) {
  let S3rver;
  try {
    const require = createRequire(join(root, 'packages/test-support/package.json'));
    S3rver = require('s3rver');
  } catch {
    say('S3 one-table step skipped: s3rver is not installed (pnpm install)');
    return;
  }
  const bucket = 'lifeboat-bench';
  const directory = mkdtempSync(join(work, 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const env = {
    ...pgEnv,
    DATABASE_URL: url,
    S3_BUCKET: bucket,
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  const name = 'lifeboat restore --tables (1 table, S3)';
  try {
    const b = await measure(process.execPath, [cli, 'backup', '--quiet'], env);
    results['lifeboat backup (S3, s3rver)'] = [{ ...b, bytes: null }];
    say(`lifeboat backup (S3, s3rver): ${(b.wallMs / 1000).toFixed(2)} s`);
    results[name] = [];
    for (let r = 0; r < rounds; r++) {
      const m = await measure(
        process.execPath,
        [
          cli,
          'restore',
          'latest',
          '--tables',
          table,
          '--as-suffix',
          '_r',
          '--in-place',
          '--clean',
          '--yes',
          '--quiet',
        ],
        env,
      );
      results[name].push({ ...m, bytes: null });
      say(`round ${r + 1} ${name}: ${(m.wallMs / 1000).toFixed(2)} s`);
    }
  } finally {
    await server.close();
    psql(db, `DROP TABLE IF EXISTS ${table}_r`);
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
