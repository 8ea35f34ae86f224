import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../src/streams/byte-queue.js';

describe('ByteQueue', () => {
  it('cuts exact pieces across chunk boundaries and keeps the rest in order', () => {
    const q = new ByteQueue();
    for (const s of ['abc', '', 'defgh', 'i', 'jklmnop']) q.push(Buffer.from(s));
    expect(q.length).toBe(16);
    expect(q.peek(5).toString()).toBe('abcde');
    expect(q.length).toBe(16); // peek takes nothing
    expect(q.take(2).toString()).toBe('ab');
    expect(q.take(4).toString()).toBe('cdef');
    expect(q.take(3).toString()).toBe('ghi');
    expect(q.length).toBe(7);
    expect(q.take(100).toString()).toBe('jklmnop'); // at most what is queued
    expect(q.length).toBe(0);
    expect(q.take(4).length).toBe(0);
  });

  it('hands out a view when one chunk holds the piece, a copy only when it spans chunks', () => {
    const q = new ByteQueue();
    const big = Buffer.from('0123456789');
    q.push(big);
    q.push(Buffer.from('ab'));
    const view = q.take(4);
    const spanning = q.take(8);
    expect(spanning.toString()).toBe('456789ab');
    big.fill('-');
    expect(view.toString()).toBe('----'); // shares the chunk's memory
    expect(spanning.toString()).toBe('456789ab'); // its own
  });

  it('drains what is left, chunk by chunk', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('xy'));
    q.push(Buffer.from('z'));
    q.take(1);
    expect(Buffer.concat(q.drain()).toString()).toBe('yz');
    expect(q.length).toBe(0);
  });
});
