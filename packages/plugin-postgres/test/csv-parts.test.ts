import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvPartitioner } from '../src/csv-parts.js';

const header = 'id,"a ""b""",c\n';
const rows = [
  '1,plain,x\n',
  '2,"multi\nline, ""quoted""",\n',
  '3,"",""\n',
  '4,"\\N",\n',
  '5,"ünï ✓",z\n',
];

/** Splits the CSV at arbitrary points, as the COPY stream may. */
function run(text: string, cuts: number[], partBytes: number) {
  const buf = Buffer.from(text);
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const splitter = new CsvPartitioner(partBytes);
  const parts: Buffer[][] = [];
  let at = 0;
  for (const p of [...points, buf.length]) {
    parts.push(...splitter.push(buf.subarray(at, p)));
    at = p;
  }
  parts.push(splitter.finish());
  return { parts: parts.map((p) => Buffer.concat(p).toString()), rows: splitter.totalRows };
}

describe('CsvPartitioner', () => {
  it('cuts only between rows and repeats the header in every part, however the input is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 80 }),
        (cuts, partBytes) => {
          const body = rows.join('').repeat(3);
          const { parts, rows: count } = run(header + body, cuts, partBytes);
          expect(count).toBe(rows.length * 3);
          for (const part of parts) expect(part.startsWith(header)).toBe(true);
          expect(parts.map((p) => p.slice(header.length)).join('')).toBe(body);
          // Every part ends at a row end: it holds whole rows only.
          for (const part of parts) {
            const rest = part.slice(header.length);
            expect(rest === '' || rows.some((r) => rest.endsWith(r))).toBe(true);
          }
        },
      ),
    );
  });

  it('keeps an empty table as its header alone, and refuses output that ends inside a row', () => {
    expect(run(header, [], 10).parts).toEqual([header]);
    const splitter = new CsvPartitioner(10);
    splitter.push(Buffer.from(`${header}1,"open`));
    expect(() => splitter.finish()).toThrow(/inside a row/);
  });
});
