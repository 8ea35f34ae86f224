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

interface OffsetBuffer {
  size: number;
  has(n: number): boolean;
  peekUInt8(): number;
  readUInt8(): number;
  readUInt32BE(): number;
  take(n: number): Buffer;
  push(b: Buffer): void;
}

interface CopyToInternals extends Readable {
  _state: number;
  _code: number;
  _buffer: OffsetBuffer;
  _copyDataChunks: OffsetBuffer;
  _unreadMessageContentLength: number;
  _detach(): void;
  _cleanup(): void;
}

const CopyToQuery = Object.getPrototypeOf(copyTo('SELECT 1')).constructor as new (
  text: string,
) => CopyToInternals;

type MessageOutcome = 'more' | 'done';

/**
 * The message framing of pg-copy-streams 7's `_parse`, shared by the readers below: CopyData
 * payloads collect in `_copyDataChunks`; what to do at a message's end is the subclass's call.
 */
abstract class CopyOutReader extends (CopyToQuery as unknown as new (
  text: string,
  options?: { objectMode?: boolean; highWaterMark?: number },
) => CopyToInternals) {
  /** A message that pg must read itself (it is left unread, with all that follows). */
  protected abstract handBack(code: number): boolean;
  /** A whole message was read; returns whether more are expected. Pushes what it completes. */
  protected abstract messageEnd(code: number): { outcome: MessageOutcome; drained: boolean };
  /** After a chunk: push what is complete. */
  protected afterChunk(): boolean {
    return true;
  }

  _parse(chunk: Buffer): boolean | undefined {
    let done = false;
    let drained = true;
    this._buffer.push(chunk);
    while (!done && this._buffer.size > 0) {
      if (this._state === PG_CODE) {
        if (!this._buffer.has(1)) break;
        this._code = this._buffer.peekUInt8();
        if (this._code === ERROR_RESPONSE || this.handBack(this._code)) {
          // Let pg parse it and what follows (an error fails the query there).
          const ended = this._code !== ERROR_RESPONSE;
          drained = this.afterChunk() && drained;
          this._detach();
          if (ended) {
            this.push(null);
            this._cleanup();
          }
          return drained;
        }
        this._buffer.readUInt8();
        this._state = PG_LENGTH;
      }
      if (this._state === PG_LENGTH) {
        if (!this._buffer.has(4)) break;
        this._unreadMessageContentLength = this._buffer.readUInt32BE() - 4;
        this._state = PG_MESSAGE;
      }
      if (this._state === PG_MESSAGE) {
        if (this._unreadMessageContentLength > 0 && this._buffer.size > 0) {
          const n = Math.min(this._buffer.size, this._unreadMessageContentLength);
          const content = this._buffer.take(n);
          this._unreadMessageContentLength -= n;
          if (this._code === COPY_DATA) this._copyDataChunks.push(content);
        }
        if (this._unreadMessageContentLength === 0) {
          const end = this.messageEnd(this._code);
          drained = end.drained && drained;
          done = end.outcome === 'done';
          this._state = PG_CODE;
        }
      }
    }
    drained = this.afterChunk() && drained;
    if (done) {
      this._detach();
      this.push(null);
      this._cleanup();
    }
    return drained;
  }
}

/** ParameterStatus, NoticeResponse, NotificationResponse: may come at any time. */
const isAsync = (code: number) =>
  code === PARAMETER_STATUS || code === NOTICE_RESPONSE || code === NOTIFICATION_RESPONSE;

/**
 * `COPY … TO STDOUT (FORMAT csv, HEADER true)` whose chunks always end at a row boundary, with
 * the header line held apart. PostgreSQL sends one CopyData message per row, so the protocol
 * already knows where rows end; pg-copy-streams flushes partial messages, which would force a
 * byte-by-byte CSV scan to find them again. This holds a partial row back until it is complete.
 */
export class RowAlignedCopyTo extends CopyOutReader {
  /** The CSV header line (the first row COPY sends). */
  header: Buffer | undefined;
  /** Data rows received so far. */
  rows = 0;
  /** Bytes of `_copyDataChunks` that hold complete rows. */
  private aligned = 0;

  protected handBack(): boolean {
    return false;
  }

  protected messageEnd(code: number): { outcome: MessageOutcome; drained: boolean } {
    if (code === COPY_DATA) {
      if (this.header === undefined) {
        this.header = this._copyDataChunks.take(this._copyDataChunks.size);
      } else {
        this.rows++;
        this.aligned = this._copyDataChunks.size;
      }
      return { outcome: 'more', drained: true };
    }
    // CopyDone (or anything unexpected) ends it; pg reads what follows.
    return {
      outcome: code === COPY_OUT_RESPONSE || isAsync(code) ? 'more' : 'done',
      drained: true,
    };
  }

  protected override afterChunk(): boolean {
    if (this.aligned === 0) return true;
    const rows = this._copyDataChunks.take(this.aligned);
    this.aligned = 0;
    return this.push(rows);
  }
}

/** What a batch of COPY statements yields: the rows of one statement, or a piece of them. */
export interface BatchPiece {
  /** Which statement of the batch. */
  index: number;
  header: Buffer;
  /** Complete rows only. */
  data: Buffer;
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
  private header: Buffer | undefined;
  private rows = 0;
  private aligned = 0;

  constructor(
    text: string,
    private readonly pieceBytes: number,
  ) {
    super(text, { objectMode: true, highWaterMark: 4 });
  }

  private pushPiece(last: boolean): boolean {
    const data = this._copyDataChunks.take(this.aligned);
    this.aligned = 0;
    const piece: BatchPiece = {
      index: this.current,
      header: this.header ?? Buffer.alloc(0),
      data,
      rows: this.rows,
      last,
    };
    this.rows = 0;
    return this.push(piece);
  }

  /** ReadyForQuery: pg takes it from here and ends the query. */
  protected handBack(code: number): boolean {
    return code === READY_FOR_QUERY;
  }

  protected messageEnd(code: number): { outcome: MessageOutcome; drained: boolean } {
    let drained = true;
    switch (code) {
      case COPY_OUT_RESPONSE:
        this.current++;
        this.header = undefined;
        this.rows = 0;
        this.aligned = 0;
        break;
      case COPY_DATA:
        if (this.header === undefined) {
          this.header = this._copyDataChunks.take(this._copyDataChunks.size);
        } else {
          this.rows++;
          this.aligned = this._copyDataChunks.size;
          if (this.aligned >= this.pieceBytes) drained = this.pushPiece(false);
        }
        break;
      case COPY_DONE:
        drained = this.pushPiece(true);
        break;
      default:
        // CommandComplete between statements, ParameterStatus, NoticeResponse, NotificationResponse.
        break;
    }
    return { outcome: 'more', drained };
  }
}
