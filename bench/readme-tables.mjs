// Prints the README's performance tables from bench/results/*.json:
//   node bench/readme-tables.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const results = fileURLToPath(new URL('results/', import.meta.url));
const mib = (b) => (b ? `${(b / 1024 / 1024).toFixed(1)} MiB` : '');
const secs = (ms) => (ms === null || ms === undefined ? '' : `${(ms / 1000).toFixed(2)} s`);

function table(header, rows, right) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

//   node bench/readme-tables.mjs [scale-1 scale-10 …] (default: scale-10 scale-1 many-tables)
const names = process.argv.slice(2);
for (const name of names.length ? names : ['scale-10', 'scale-1', 'many-tables']) {
  const r = JSON.parse(readFileSync(`${results}${name}.json`, 'utf8'));
  const m = r.machine;
  const cpu = (m.cpuModel ?? '').replace(/\(R\)|\(TM\)|CPU|Processor|@.*$/g, '').trim();
  console.log(
    `**${r.case}** — ${r.tableDataMiB} MiB of table data, PostgreSQL ${r.server.split(' ')[0]}, ${m.cpus} vCPU (${cpu}), ${m.memGiB} GiB, Node ${m.node}, medians of ${r.rounds}, ${r.date.slice(0, 10)}${m.loadAverage ? `, load average ${m.loadAverage.start} at the start and ${m.loadAverage.end} at the end (${m.cpus} cores)` : ''}:\n`,
  );
  console.log(
    table(
      ['command', 'wall', 'client CPU', 'server CPU', 'peak RSS', 'peak anon RSS', 'output'],
      Object.entries(r.results).map(([k, v]) => [
        k,
        secs(v.wallMs),
        secs(v.cpuMs),
        secs(v.serverCpuMs),
        v.peakRssMiB === null ? '' : `${v.peakRssMiB} MiB`,
        v.peakAnonMiB === null || v.peakAnonMiB === undefined ? '' : `${v.peakAnonMiB} MiB`,
        mib(v.bytes),
      ]),
      [false, true, true, true, true, true, true],
    ),
  );
  console.log();
  console.log(
    table(
      ['ratio', 'value'],
      Object.entries(r.ratios)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, String(v)]),
      [false, true],
    ),
  );
  console.log();
  if (r.memoryCap) {
    console.log(
      table(
        ['capped step', 'completed', 'wall', 'peak RSS', 'peak anon RSS', 'cgroup peak'],
        (r.memoryCap.runs ?? []).map((x) => [
          x.name,
          x.completed ? 'yes' : `no${x.oomKilled ? ' (killed)' : ''}`,
          secs(x.wallMs),
          x.peakRssMiB ? `${x.peakRssMiB} MiB` : '',
          x.peakAnonMiB ? `${x.peakAnonMiB} MiB` : '',
          x.cgroupPeakMiB ? `${x.cgroupPeakMiB} MiB` : '',
        ]),
        [false, false, true, true, true, true],
      ),
    );
    console.log(`\nEnforcement: ${r.memoryCap.enforcement}.\n`);
  }
}
