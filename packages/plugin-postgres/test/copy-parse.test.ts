import { describe, expect, it } from 'vitest';
import { BatchCopyTo, type BatchPiece, RowAlignedCopyTo } from '../src/copy-out.js';

/** One protocol message: a code byte, a length that counts itself, the payload. */
const message = (code: string, payload: Buffer | string = '') => {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = code.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

const header = 'id,body\n';
const rows = [
  '1,short\n',
  `2,"${'x'.repeat(300)}"\n`,
  '3,"multi\nline, ""quoted"""\n',
  '4,\n',
  `5,${'y'.repeat(5000)}\n`,
];
const tail = Buffer.concat([message('C', 'COPY 5\0'), message('Z', 'I')]);
const wire = Buffer.concat([
  message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
  message('d', header),
  message('d', rows[0]!),
  message('N', 'SNOTICE\0Mhello\0\0'),
  ...rows.slice(1).map((r) => message('d', r)),
  message('c'),
  tail,
]);

/** Feeds `wire` to the parser in chunks of `size`, as the socket would (fresh buffers: the parser compacts them in place). */
function parse(size: number) {
  const stream = new RowAlignedCopyTo('COPY t TO STDOUT') as RowAlignedCopyTo & {
    _parse(chunk: Buffer): boolean | undefined;
    _detach(): void;
    _buffer: { size: number; take(n: number): Buffer };
  };
  const pushed: Buffer[] = [];
  let ended = false;
  let handedBack: Buffer | undefined;
  stream.on('data', (b: Buffer) => pushed.push(b));
  stream.on('end', () => {
    ended = true;
  });
  stream._detach = () => {
    handedBack = stream._buffer.take(stream._buffer.size);
  };
  for (let i = 0; i < wire.length && handedBack === undefined; i += size) {
    stream._parse(Buffer.from(wire.subarray(i, i + size)));
  }
  return { stream, pushed, handedBack, ended: () => ended };
}

describe('RowAlignedCopyTo: rows from the protocol, whatever the chunks', () => {
  it('gives the same rows, header and rest whatever the socket chunk sizes', async () => {
    for (const size of [1, 2, 3, 4, 5, 6, 7, 13, 64, 300, 4096, wire.length]) {
      const { stream, pushed, handedBack } = parse(size);
      await new Promise((r) => setImmediate(r));
      expect(stream.header?.toString(), `chunk size ${size}`).toBe(header);
      expect(stream.rows, `chunk size ${size}`).toBe(rows.length);
      expect(Buffer.concat(pushed).toString(), `chunk size ${size}`).toBe(rows.join(''));
      // Every pushed piece ends at a row end.
      for (const piece of pushed) expect(piece.at(-1), `chunk size ${size}`).toBe(0x0a);
      // What follows CopyDone goes back to pg untouched (as much of it as had arrived).
      expect(handedBack, `chunk size ${size}`).toBeDefined();
      expect(tail.subarray(0, handedBack!.length), `chunk size ${size}`).toEqual(handedBack);
    }
  });

  it('an error response goes back to pg without ending the stream', async () => {
    const error = message('E', 'SERROR\0C57P01\0Mterminating connection\0\0');
    const stream = new RowAlignedCopyTo('COPY t TO STDOUT') as RowAlignedCopyTo & {
      _parse(chunk: Buffer): boolean | undefined;
      _detach(): void;
      _buffer: { size: number; take(n: number): Buffer };
    };
    let ended = false;
    let handedBack: Buffer | undefined;
    const pushed: Buffer[] = [];
    stream.on('data', (b: Buffer) => pushed.push(b));
    stream.on('end', () => {
      ended = true;
    });
    stream._detach = () => {
      handedBack = stream._buffer.take(stream._buffer.size);
    };
    stream._parse(
      Buffer.concat([
        message('H', Buffer.from([0, 0, 0])),
        message('d', header),
        message('d', rows[0]!),
        error,
      ]),
    );
    await new Promise((r) => setImmediate(r));
    // Nothing but whole rows ever came out (the backup fails with the error anyway).
    expect(['', rows[0]]).toContain(Buffer.concat(pushed).toString());
    expect(handedBack).toEqual(error);
    expect(ended).toBe(false);
  });
});

describe('BatchCopyTo: statements and pieces from the protocol, whatever the chunks', () => {
  const second = ['a,b\n', `"${'z'.repeat(700)}",1\n`, ',\n'];
  const batchWire = Buffer.concat([
    message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
    message('d', header),
    ...rows.map((r) => message('d', r)),
    message('c'),
    message('C', 'COPY 5\0'),
    message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
    message('d', 'x,y\n'),
    message('N', 'SNOTICE\0Mhello\0\0'),
    ...second.map((r) => message('d', r)),
    message('c'),
    message('C', 'COPY 3\0'),
    message('Z', 'I'),
  ]);

  it('gives each statement its header and rows, in pieces ending at row ends', async () => {
    for (const size of [1, 2, 5, 6, 17, 256, 4096, batchWire.length]) {
      const stream = new BatchCopyTo('COPY a TO STDOUT; COPY b TO STDOUT', 1000) as BatchCopyTo & {
        _parse(chunk: Buffer): boolean | undefined;
        _detach(): void;
        _buffer: { size: number; take(n: number): Buffer };
      };
      const pieces: BatchPiece[] = [];
      let handedBack: Buffer | undefined;
      stream.on('data', (p: BatchPiece) => pieces.push(p));
      stream._detach = () => {
        handedBack = stream._buffer.take(stream._buffer.size);
      };
      for (let i = 0; i < batchWire.length && handedBack === undefined; i += size) {
        stream._parse(Buffer.from(batchWire.subarray(i, i + size)));
      }
      await new Promise((r) => setImmediate(r));
      const label = `chunk size ${size}`;
      const of = (index: number) => pieces.filter((p) => p.index === index);
      const text = (index: number) => Buffer.concat(of(index).flatMap((p) => p.chunks)).toString();
      expect(text(0), label).toBe(rows.join(''));
      expect(text(1), label).toBe(second.join(''));
      expect(
        of(0).map((p) => p.header.toString()),
        label,
      ).toSatisfy((h: string[]) => h.every((x) => x === header));
      expect(of(1)[0]?.header.toString(), label).toBe('x,y\n');
      expect(
        of(0).reduce((n, p) => n + p.rows, 0),
        label,
      ).toBe(rows.length);
      expect(
        of(1).reduce((n, p) => n + p.rows, 0),
        label,
      ).toBe(second.length);
      // The 5,000-byte row alone passes the piece size: statement 0 comes in more than one piece.
      expect(of(0).length, label).toBeGreaterThan(1);
      for (const p of pieces) {
        expect(p.bytes, label).toBe(p.chunks.reduce((n, c) => n + c.length, 0));
        for (const c of p.chunks) expect(c.at(-1), label).toBe(0x0a);
      }
      expect(
        pieces.map((p) => p.last),
        label,
      ).toEqual(pieces.map((p, i) => pieces[i + 1]?.index !== p.index));
      // ReadyForQuery goes back to pg (as much of it as had arrived).
      expect(handedBack?.length, label).toBeGreaterThan(0);
      expect(message('Z', 'I').subarray(0, handedBack!.length), label).toEqual(handedBack);
    }
  });
});

describe('RowAlignedCopyTo: backpressure with large rows', () => {
  it('stops reading after a couple of rows when nobody reads, however large they are', () => {
    const big = `${'b'.repeat(4 * 1024 * 1024 - 1)}\n`;
    const wire = Buffer.concat([
      message('H', Buffer.from([0, 0, 1, 0, 0])),
      message('d', 'body\n'),
      ...Array.from({ length: 20 }, () => message('d', big)),
      message('c'),
    ]);
    const stream = new RowAlignedCopyTo('COPY t TO STDOUT') as RowAlignedCopyTo & {
      _parse(chunk: Buffer): boolean | undefined;
    };
    let fed = 0;
    // As pg-copy-streams' _forward does: stop at the first `false` until the reader asks again.
    while (fed < wire.length) {
      const more = stream._parse(Buffer.from(wire.subarray(fed, fed + 64 * 1024)));
      fed += 64 * 1024;
      if (more === false) break;
    }
    expect(fed).toBeLessThan(wire.length);
    expect(stream.readableLength).toBeLessThanOrEqual(2);
    expect(fed).toBeLessThanOrEqual(3 * big.length);
  });
});
