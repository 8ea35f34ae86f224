import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Warn } from '@lifeboat/core';
import { from as copyFrom } from 'pg-copy-streams';
import { SCRIPT_WARNING } from '../catalog/access.js';
import { type PgClient, qualified, quoteIdent } from '../connection.js';
import { toPgLifeboatError } from '../errors.js';
import type { TableSummary } from '../summary.js';

/**
 * Runs `work` while forwarding the warnings a post-data script raises on purpose (a grant to a
 * role this server lacks, owners it may not set) as `warning` events.
 */
export async function withScriptWarnings<T>(
  client: PgClient,
  warn: Warn,
  work: () => Promise<T>,
): Promise<T> {
  const onNotice = (notice: { message?: string }) => {
    const raised = notice.message?.startsWith(SCRIPT_WARNING)
      ? /^([A-Z_]+): (.*)$/s.exec(notice.message.slice(SCRIPT_WARNING.length))
      : null;
    if (raised) warn(raised[1]!, raised[2]!);
  };
  client.on('notice', onNotice);
  try {
    return await work();
  } finally {
    client.off('notice', onNotice);
  }
}

/** Runs a SQL script (pre-data, post-data) as one simple query: statements run in order. */
export async function runScript(client: PgClient, sql: string, what: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    throw toPgLifeboatError(error, `running ${what}`, 'RESTORE_FAILED');
  }
}

/**
 * An entry's bytes for a COPY that starts now: they are read on at the archive's pace into a
 * buffer the COPY drains, so the archive moves on to the next entry while this one loads (the
 * COPY reads from the buffer, never waits for the archive). `read` resolves once the whole
 * entry is in the buffer or sent. Bytes are let go as they are sent: no part waits whole in
 * memory for a connection (issue 16, restore memory).
 */
export function readAhead(stream: Readable, size: number): { data: Readable; read: Promise<void> } {
  const data = new PassThrough({ highWaterMark: size + 64 * 1024 });
  return { data, read: pipeline(stream, data) };
}

/** Loads one CSV part (header first) into a table, or into `into` (a table of another name). */
export async function copyPart(
  client: PgClient,
  table: TableSummary,
  data: Readable | Buffer[],
  into?: { schema: string; table: string },
): Promise<number> {
  const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const target = into ? qualified(into.schema, into.table) : qualified(table.schema, table.table);
  const sql = `COPY ${target}${columns ? ` (${columns})` : ''} FROM STDIN WITH (FORMAT csv, HEADER true)`;
  try {
    const copy = client.query(copyFrom(sql));
    await pipeline(Array.isArray(data) ? Readable.from(data) : data, copy);
    return copy.rowCount;
  } catch (error) {
    throw toPgLifeboatError(error, `loading table ${table.name}`, 'RESTORE_FAILED');
  }
}

/** Maps each data entry (`data/…csv`) to its table. */
export function partIndex(tables: TableSummary[]): Map<string, TableSummary> {
  const map = new Map<string, TableSummary>();
  for (const t of tables) for (const p of t.parts) map.set(p, t);
  return map;
}
