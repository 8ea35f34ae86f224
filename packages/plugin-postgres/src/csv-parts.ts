/**
 * Cuts a CSV stream from `COPY … TO STDOUT (FORMAT csv, HEADER true)` into parts at row
 * boundaries. pg-copy-streams 7 pushes whatever CopyData bytes arrived, so a chunk can end in
 * the middle of a row (see copy-to.js `_parse`: partial message contents are flushed); rows
 * are therefore found here. In PostgreSQL's CSV output a record ends at a newline outside
 * quotes, and a quote inside a quoted field is doubled, so counting quotes is exact. Neither
 * `"` nor `\n` can occur inside a multi-byte UTF-8 sequence.
 */
export class CsvPartitioner {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes of `chunks` up to the end of the last complete row. */
  private complete = 0;
  /** Complete rows in `chunks` (the header not counted). */
  private completeRows = 0;
  private inQuotes = false;
  private headerDone = false;
  /** The header line, repeated at the top of every part. */
  header: Buffer = Buffer.alloc(0);
  totalRows = 0;

  constructor(private readonly partBytes: number) {}

  /** Adds COPY output; returns the parts (header included) that are full. */
  push(chunk: Buffer): Buffer[][] {
    const parts: Buffer[][] = [];
    let start = 0;
    let pos = 0;
    // Native searches (memchr) instead of a loop over every byte: a row costs one indexOf.
    let quote = chunk.indexOf(0x22);
    while (pos < chunk.length) {
      if (this.inQuotes) {
        if (quote < 0) break;
        // A doubled quote inside a field closes and reopens: the parity is all that matters.
        this.inQuotes = false;
        pos = quote + 1;
        quote = chunk.indexOf(0x22, pos);
        continue;
      }
      const newline = chunk.indexOf(0x0a, pos);
      if (quote >= 0 && (newline < 0 || quote < newline)) {
        this.inQuotes = true;
        pos = quote + 1;
        quote = chunk.indexOf(0x22, pos);
        continue;
      }
      if (newline < 0) break;
      const i = newline;
      pos = i + 1;
      if (!this.headerDone) {
        this.header = Buffer.concat([...this.chunks, chunk.subarray(start, i + 1)]);
        this.chunks = [];
        this.size = 0;
        this.complete = 0;
        this.headerDone = true;
        start = i + 1;
        continue;
      }
      this.completeRows++;
      this.complete = this.size + (i + 1 - start);
      if (this.complete >= this.partBytes) {
        this.chunks.push(chunk.subarray(start, i + 1));
        parts.push(this.take());
        start = i + 1;
      }
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.size += chunk.length - start;
    }
    return parts;
  }

  /** The last part (it may hold no row when the table is empty: then it is the header alone). */
  finish(): Buffer[] {
    if (this.inQuotes || this.size !== this.complete) {
      throw new Error('COPY output ended inside a row');
    }
    return this.take();
  }

  /** Bytes held, header excluded (memory is bounded by partBytes plus one row and one chunk). */
  get buffered(): number {
    return this.size;
  }

  private take(): Buffer[] {
    const part = [this.header, ...this.chunks];
    this.totalRows += this.completeRows;
    this.chunks = [];
    this.size = 0;
    this.complete = 0;
    this.completeRows = 0;
    return part;
  }
}
