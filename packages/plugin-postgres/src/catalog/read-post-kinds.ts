import type { PgClient } from '../connection.js';
import { quoteLiteral } from '../connection.js';
import type {
  DefaultPrivilegeObj,
  EventTriggerObj,
  PublicationObj,
  StatisticsObj,
  SubscriptionObj,
  UnsupportedObj,
} from './model.js';
import * as q from './post-queries.js';

// biome-ignore lint/suspicious/noExplicitAny: rows straight from the catalog
type Row = Record<string, any>;

const rows = async (client: PgClient, sql: string, params: unknown[] = []): Promise<Row[]> =>
  (await client.query(sql, params)).rows as Row[];

export interface PostKinds {
  statistics: StatisticsObj[];
  eventTriggers: EventTriggerObj[];
  publications: PublicationObj[];
  subscriptions: SubscriptionObj[];
  defaultPrivileges: DefaultPrivilegeObj[];
  /** What cannot be backed up (security labels, subscriptions this user may not read). */
  unsupported: UnsupportedObj[];
  /** Publication tables outside the table selection. */
  skipped: UnsupportedObj[];
}

/**
 * Reads the objects post-data creates last. `relOids`: the selected tables and views (extended
 * statistics follow them); `tableNames`: the selected tables by OID (a publication keeps only
 * those).
 */
export async function readPostKinds(
  client: PgClient,
  versionNum: number,
  relOids: number[],
  tableNames: Map<number, string>,
): Promise<PostKinds> {
  const statistics: StatisticsObj[] = (await rows(client, q.STATISTICS_EXT, [relOids])).map(
    (r) => ({
      oid: Number(r.oid),
      tableOid: Number(r.table_oid),
      schema: r.schema,
      name: r.name,
      def: r.def,
      target: r.target,
      owner: r.owner,
      comment: r.comment,
    }),
  );
  const eventTriggers: EventTriggerObj[] = (await rows(client, q.EVENT_TRIGGERS)).map((r) => ({
    name: r.name,
    event: r.event,
    tags: r.tags,
    function: r.function,
    enabled: r.enabled,
    owner: r.owner,
    comment: r.comment,
  }));
  const skipped: UnsupportedObj[] = [];
  const publications = await readPublications(client, versionNum, tableNames, skipped);
  const unsupported: UnsupportedObj[] = (await rows(client, q.SECURITY_LABELS)).map((r) => ({
    kind: r.kind,
    name: r.name,
    reason: r.reason,
  }));
  const [access] = await rows(client, q.SUBSCRIPTIONS_READABLE);
  let subscriptions: SubscriptionObj[] = [];
  if (access?.readable) {
    subscriptions = (await rows(client, q.SUBSCRIPTIONS)).map(subscriptionOf);
  } else {
    for (const name of (access?.names ?? []) as string[]) {
      unsupported.push({
        kind: 'subscription',
        name,
        reason: 'only a superuser may read its connection string',
      });
    }
  }
  const defaultPrivileges: DefaultPrivilegeObj[] = (await rows(client, q.DEFAULT_PRIVILEGES)).map(
    (r) => ({
      role: r.role,
      schema: r.schema,
      type: r.type,
      granted: r.granted ?? [],
      defaults: r.defaults,
    }),
  );
  return {
    statistics,
    eventTriggers,
    publications,
    subscriptions,
    defaultPrivileges,
    unsupported,
    skipped,
  };
}

async function readPublications(
  client: PgClient,
  versionNum: number,
  tableNames: Map<number, string>,
  skipped: UnsupportedObj[],
): Promise<PublicationObj[]> {
  const byOid = new Map<number, PublicationObj>();
  for (const r of await rows(client, q.PUBLICATIONS)) {
    const p = r.row as Row;
    byOid.set(Number(r.oid), {
      name: p.pubname,
      allTables: p.puballtables,
      publish: (['insert', 'update', 'delete', 'truncate'] as const).filter((k) => p[`pub${k}`]),
      viaRoot: p.pubviaroot === true,
      generatedColumns:
        p.pubgencols === undefined ? null : p.pubgencols === true ? 's' : String(p.pubgencols),
      tables: [],
      schemas: [],
      owner: r.owner,
      comment: r.comment,
    });
  }
  if (byOid.size === 0) return [];
  for (const r of await rows(client, q.publicationTablesQuery(versionNum))) {
    const pub = byOid.get(Number(r.publication));
    if (!pub) continue;
    const tableOid = Number(r.table_oid);
    if (!tableNames.has(tableOid)) {
      skipped.push({
        kind: 'publication table',
        name: `${pub.name}: table OID ${tableOid}`,
        reason: 'the table is outside the selection',
      });
      continue;
    }
    pub.tables.push({ tableOid, columns: r.columns, where: r.where });
  }
  const [has] = await rows(client, q.HAS_PUBLICATION_SCHEMAS);
  if (has?.ok) {
    for (const r of await rows(client, q.PUBLICATION_SCHEMAS)) {
      byOid.get(Number(r.publication))?.schemas.push(r.schema);
    }
  }
  return [...byOid.values()];
}

/** As pg_dump writes it: options that differ from the defaults, streaming always (18 changed it). */
function subscriptionOf(r: Row): SubscriptionObj {
  const s = r.row as Row;
  const options: string[] = [];
  if (s.subbinary === true) options.push('binary = true');
  if (s.substream !== undefined) {
    const stream =
      s.substream === true || s.substream === 't' ? 'on' : s.substream === 'p' ? 'parallel' : 'off';
    options.push(`streaming = ${stream}`);
  }
  if (s.subtwophasestate !== undefined && s.subtwophasestate !== 'd')
    options.push('two_phase = on');
  if (s.subdisableonerr === true) options.push('disable_on_error = true');
  if (s.subpasswordrequired === false) options.push('password_required = false');
  if (s.subrunasowner === true) options.push('run_as_owner = true');
  if (s.subfailover === true) options.push('failover = true');
  if (typeof s.suborigin === 'string' && s.suborigin.toLowerCase() !== 'any')
    options.push(`origin = ${quoteLiteral(s.suborigin)}`);
  if (s.subsynccommit !== 'off')
    options.push(`synchronous_commit = ${quoteLiteral(String(s.subsynccommit))}`);
  return {
    name: s.subname,
    conninfo: s.subconninfo,
    publications: s.subpublications ?? [],
    slotName: s.subslotname ?? null,
    options,
    owner: r.owner,
    comment: r.comment,
  };
}
