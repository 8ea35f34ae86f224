/**
 * Chunks waiting to be cut into pieces of exact sizes (gzip members, upload parts). A piece
 * inside one chunk is a view of it, not a copy; only a piece spanning chunks is copied.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #bytes = 0;

  get length(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** The first `n` bytes without taking them (a copy only if they span chunks). */
  peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return this.#copy(Math.min(n, this.#bytes), false);
  }

  /**
   * Takes the first `n` bytes (at most what is queued). A piece spanning chunks is copied into
   * `into` when given (at least `n` bytes long; the piece is a view of it), else into a new buffer.
   */
  take(n: number, into?: Buffer): Buffer {
    const want = Math.min(n, this.#bytes);
    const first = this.#chunks[0];
    if (first && first.length >= want) {
      const piece = first.subarray(0, want);
      if (first.length === want) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(want);
      this.#bytes -= want;
      return piece;
    }
    return this.#copy(want, true, into);
  }

  /** Takes everything queued, chunk by chunk. */
  drain(): Buffer[] {
    const all = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    return all;
  }

  #copy(n: number, consume: boolean, into?: Buffer): Buffer {
    const out = into && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const chunk = this.#chunks[i]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (!consume) i++;
      else if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    if (consume) this.#bytes -= n;
    return out;
  }
}
