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

for (const name of ['scale-10', 'scale-1', 'many-tables']) {
  const r = JSON.parse(readFileSync(`${results}${name}.json`, 'utf8'));
  const m = r.machine;
  const cpu = (m.cpuModel ?? '').replace(/\(R\)|\(TM\)|CPU|Processor|@.*$/g, '').trim();
  console.log(
    `**${r.case}** — ${r.tableDataMiB} MiB of table data, PostgreSQL ${r.server.split(' ')[0]}, ${m.cpus} vCPU (${cpu}), ${m.memGiB} GiB, Node ${m.node}, medians of ${r.rounds}, ${r.date.slice(0, 10)}:\n`,
  );
  console.log(
    table(
      ['command', 'wall', 'client CPU', 'server CPU', 'peak RSS', 'output'],
      Object.entries(r.results).map(([k, v]) => [
        k,
        secs(v.wallMs),
        secs(v.cpuMs),
        secs(v.serverCpuMs),
        v.peakRssMiB === null ? '' : `${v.peakRssMiB} MiB`,
        mib(v.bytes),
      ]),
      [false, true, true, true, true, true],
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
}
