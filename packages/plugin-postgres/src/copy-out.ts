import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';

// Protocol message codes (see pg-copy-streams/message-formats.js).
const COPY_DATA = 0x64;
const ERROR_RESPONSE = 0x45;
const COPY_OUT_RESPONSE = 0x48;
const PARAMETER_STATUS = 0x53;
const NOTICE_RESPONSE = 0x4e;
const NOTIFICATION_RESPONSE = 0x41;
const COPY_DONE = 0x63;
const READY_FOR_QUERY = 0x5a;

const PG_CODE = 0;
const PG_LENGTH = 1;
const PG_MESSAGE = 2;

interface CopyToInternals extends Readable {
  /** pg-copy-streams hands `_buffer`'s bytes back to pg on `_detach`. */
  _buffer: { push(b: Buffer): void };
  _detach(): void;
  _cleanup(): void;
}

const CopyToQuery = Object.getPrototypeOf(copyTo('SELECT 1')).constructor as new (
  text: string,
  options?: { objectMode?: boolean; highWaterMark?: number },
) => CopyToInternals;

/** ParameterStatus, NoticeResponse, NotificationResponse: may come at any time. */
const isAsync = (code: number) =>
  code === PARAMETER_STATUS || code === NOTICE_RESPONSE || code === NOTIFICATION_RESPONSE;

/**
 * Reads `COPY … TO STDOUT (FORMAT csv, HEADER true)` results straight off the socket's chunks.
 * PostgreSQL sends one CopyData message per row; each chunk is compacted in place (the 5-byte
 * message heads removed), so the rows are handed on as views of the chunk the socket filled:
 * no object and no copy per row, and every piece ends at a row end (the protocol says where
 * rows end; finding that again later would take a byte-by-byte CSV scan). A row split across
 * chunks is the only one copied. Replaces pg-copy-streams' `_parse`; its attach/detach are kept.
 */
abstract class CopyOutReader extends CopyToQuery {
  /** The current statement's CSV header line (its first CopyData). */
  protected statementHeader: Buffer | undefined;
  /** Complete rows not handed on yet, each piece ending at a row end. */
  protected ready: Buffer[] = [];
  protected readyBytes = 0;
  /** Rows completed in the current statement since the last `takeReady`. */
  protected readyRows = 0;

  private state = PG_CODE;
  private code = 0;
  private lengthBytes = 0;
  private length = 0;
  private remaining = 0;
  /** A row begun in earlier chunks. */
  private partial: Buffer[] = [];
  /** The chunk being parsed, compacted up to `write`; complete rows lie in [regionStart, regionEnd). */
  private chunk: Buffer = Buffer.alloc(0);
  private regionStart = 0;
  private regionEnd = 0;
  private write = 0;

  /** A message pg must read itself (it and all that follows go back to pg). */
  protected abstract handBack(code: number): boolean;
  /** A message other than CopyData ended; returns whether the COPY is over. */
  protected abstract messageEnd(code: number): { done: boolean; drained: boolean };
  /** A row ended; returns false to pause reading (backpressure). */
  protected rowEnd(): boolean {
    return true;
  }
  /** The chunk is parsed: hand on what is ready. */
  protected abstract afterChunk(): boolean;

  /** Moves the complete rows of the current chunk to `ready`. */
  protected collect(): void {
    if (this.regionEnd > this.regionStart) {
      this.ready.push(this.chunk.subarray(this.regionStart, this.regionEnd));
      this.readyBytes += this.regionEnd - this.regionStart;
      this.regionStart = this.regionEnd;
    }
  }

  /** Bytes of complete rows in the current chunk not yet moved to `ready`. */
  protected pendingBytes(): number {
    return this.regionEnd - this.regionStart;
  }

  /** Hands `ready` over and starts afresh. */
  protected takeReady(): { chunks: Buffer[]; bytes: number; rows: number } {
    this.collect();
    const taken = { chunks: this.ready, bytes: this.readyBytes, rows: this.readyRows };
    this.ready = [];
    this.readyBytes = 0;
    this.readyRows = 0;
    return taken;
  }

  private copyDataEnd(): boolean {
    const begin = this.regionEnd;
    let row: Buffer | undefined;
    // A new array only for a row that spanned chunks: one per row was a third of the JS heap a
    // backup allocates (10 MB of 44 at scale 1), each a young-generation collection sooner.
    if (this.partial.length > 0) {
      row = Buffer.concat([...this.partial, this.chunk.subarray(0, this.write)]);
      this.partial = [];
    }
    if (this.statementHeader === undefined) {
      // Copied: a view would keep the whole chunk alive as long as the header.
      this.statementHeader = row ?? Buffer.from(this.chunk.subarray(begin, this.write));
      this.regionStart = this.regionEnd = this.write;
      return true;
    }
    this.readyRows++;
    if (row) {
      // The row's start lies in earlier chunks: it is this chunk's first, and the only copy.
      this.ready.push(row);
      this.readyBytes += row.length;
      this.regionStart = this.write;
    }
    this.regionEnd = this.write;
    return this.rowEnd();
  }

  _parse(chunk: Buffer): boolean | undefined {
    this.chunk = chunk;
    this.regionStart = this.regionEnd = this.write = 0;
    let drained = true;
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.state === PG_CODE) {
        const code = chunk[pos]!;
        if (code === ERROR_RESPONSE || this.handBack(code)) {
          // Let pg parse it and what follows (an error fails the query there).
          this.afterChunk();
          // Nothing more to read here: pg's own parser has the connection again.
          return this.finish(chunk.subarray(pos), code !== ERROR_RESPONSE, false);
        }
        this.code = code;
        pos++;
        this.state = PG_LENGTH;
        this.lengthBytes = 0;
        this.length = 0;
      }
      if (this.state === PG_LENGTH) {
        while (this.lengthBytes < 4 && pos < end) {
          this.length = this.length * 256 + chunk[pos++]!;
          this.lengthBytes++;
        }
        if (this.lengthBytes < 4) break;
        this.remaining = this.length - 4;
        this.state = PG_MESSAGE;
      }
      const n = Math.min(this.remaining, end - pos);
      if (this.code === COPY_DATA && n > 0) {
        if (this.write !== pos) chunk.copyWithin(this.write, pos, pos + n);
        this.write += n;
      }
      pos += n;
      this.remaining -= n;
      if (this.remaining > 0) break;
      this.state = PG_CODE;
      if (this.code === COPY_DATA) {
        drained = this.copyDataEnd() && drained;
        continue;
      }
      const outcome = this.messageEnd(this.code);
      drained = outcome.drained && drained;
      if (outcome.done) {
        drained = this.afterChunk() && drained;
        return this.finish(chunk.subarray(pos), true, drained);
      }
    }
    // A row still arriving: keep its start (a view; this chunk is not written again).
    if (this.write > this.regionEnd) this.partial.push(chunk.subarray(this.regionEnd, this.write));
    return this.afterChunk() && drained;
  }

  /** Gives pg the rest of the stream; ends this one unless an error is pg's to report. */
  private finish(rest: Buffer, ended: boolean, drained: boolean): boolean {
    this._buffer.push(rest);
    this._detach();
    if (ended) {
      this.push(null);
      this._cleanup();
    }
    return drained;
  }
}

/**
 * `COPY … TO STDOUT (FORMAT csv, HEADER true)`: yields Buffers (object mode, so they are never
 * merged), each ending at a row end, with the header line held apart. At most two are buffered:
 * a row spanning chunks is one object, and rows can be large.
 */
export class RowAlignedCopyTo extends CopyOutReader {
  /** Data rows received so far. */
  rows = 0;

  constructor(text: string) {
    super(text, { objectMode: true, highWaterMark: 2 });
  }

  /** The CSV header line (the first row COPY sends). */
  get header(): Buffer | undefined {
    return this.statementHeader;
  }

  protected handBack(): boolean {
    return false;
  }

  protected messageEnd(code: number): { done: boolean; drained: boolean } {
    // CopyDone (or anything unexpected) ends it; pg reads what follows.
    return { done: !(code === COPY_OUT_RESPONSE || isAsync(code)), drained: true };
  }

  protected afterChunk(): boolean {
    const { chunks, rows } = this.takeReady();
    this.rows += rows;
    let drained = true;
    for (const c of chunks) drained = this.push(c) && drained;
    return drained;
  }
}

/** What a batch of COPY statements yields: the rows of one statement, or a piece of them. */
export interface BatchPiece {
  /** Which statement of the batch. */
  index: number;
  header: Buffer;
  /** Complete rows only, each chunk ending at a row end. */
  chunks: Buffer[];
  bytes: number;
  rows: number;
  /** The statement's last piece. */
  last: boolean;
}

/**
 * Several `COPY … TO STDOUT (FORMAT csv, HEADER true)` statements sent as one simple query: one
 * round trip for many small tables instead of one each. Yields each statement's rows as pieces
 * (object mode), a piece at most about `pieceBytes`, so a table bigger than expected still never
 * sits whole in memory; backpressure pauses the connection as for a single COPY.
 */
export class BatchCopyTo extends CopyOutReader {
  /** The statement being received (for error messages). */
  current = -1;

  constructor(
    text: string,
    private readonly pieceBytes: number,
  ) {
    super(text, { objectMode: true, highWaterMark: 2 });
  }

  private pushPiece(last: boolean): boolean {
    const { chunks, bytes, rows } = this.takeReady();
    const piece: BatchPiece = {
      index: this.current,
      header: this.statementHeader ?? Buffer.alloc(0),
      chunks,
      bytes,
      rows,
      last,
    };
    return this.push(piece);
  }

  /** ReadyForQuery: pg takes it from here and ends the query. */
  protected handBack(code: number): boolean {
    return code === READY_FOR_QUERY;
  }

  protected override rowEnd(): boolean {
    return this.readyBytes + this.pendingBytes() >= this.pieceBytes ? this.pushPiece(false) : true;
  }

  protected messageEnd(code: number): { done: boolean; drained: boolean } {
    let drained = true;
    if (code === COPY_OUT_RESPONSE) {
      this.current++;
      this.statementHeader = undefined;
    } else if (code === COPY_DONE) {
      drained = this.pushPiece(true);
    }
    // CommandComplete between statements, ParameterStatus, NoticeResponse, NotificationResponse.
    return { done: false, drained };
  }

  protected afterChunk(): boolean {
    // Rows wait for the piece to fill (or the statement to end); views of this chunk stay valid.
    this.collect();
    return true;
  }
}
