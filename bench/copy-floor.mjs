// The floor: COPY every table TO STDOUT into nothing, over N parallel connections in one
// exported snapshot. Nothing can back up faster than the server hands out rows.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

const [url, parallel = '2'] = process.argv.slice(2);
const lead = new pg.Client({ connectionString: url });
await lead.connect();
await lead.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
const snapshot = (await lead.query('SELECT pg_export_snapshot() AS s')).rows[0].s;
const tables = (
  await lead.query(
    "SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema') ORDER BY pg_relation_size(c.oid) DESC",
  )
).rows.map((r) => r.t);
let next = 0;
const worker = async () => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await c.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
  while (next < tables.length) {
    const t = tables[next++];
    await pipeline(
      c.query(copyStreams.to(`COPY ${t} TO STDOUT (FORMAT csv)`)),
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
  }
  await c.query('COMMIT');
  await c.end();
};
await Promise.all(Array.from({ length: Number(parallel) }, worker));
await lead.query('COMMIT');
await lead.end();
