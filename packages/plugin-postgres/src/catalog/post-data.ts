import { qualified, quoteIdent, quoteLiteral } from '../connection.js';
import { OWNER_REPORT, SCRIPT_WARNING } from './access.js';
import { domainChecksOf, renderLateDomainChecks } from './domain-checks.js';
import { markersOf, newMarkers } from './markers.js';
import type { Catalog, UnsupportedObj } from './model.js';
import {
  renderDefaultPrivileges,
  renderEventTrigger,
  renderPublication,
  renderStatistics,
  renderSubscription,
} from './post-kinds.js';
import { orderedPreData, SCRIPT_HEADER } from './pre-data.js';
import { constraintPresent, guardStep, ifPresent, indexPresent, stepsOf } from './step-guard.js';
import { indexAlters, ruleState, triggerState } from './table-details.js';
import {
  PARTITION_TABLESPACE_HELPER,
  partitionTablespaceStatement,
  tablespaceSelector,
} from './tablespaces.js';

const POLICY_COMMANDS: Record<string, string> = {
  '*': 'ALL',
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
};

export interface PostDataPlan {
  /** Keys, indexes and checks, each on one table: any order, any number at once. */
  parallel: { sql: string; tables: string[] }[];
  /** Foreign keys: at once only when their tables differ. */
  foreignKeys: { sql: string; tables: string[] }[];
  /** Everything else, in order, after the above. */
  rest: string;
  /** `rest` cut where a restore into a new database may commit and go on. */
  restPieces: string[];
}

/**
 * Splits post-data SQL into what a restore may run in parallel and the rest, at the markers
 * with the script's own token (see markers.ts): a marker-like line inside a name, comment or
 * expression never counts. Scripts without a token (older archives) are all "rest". Every
 * piece starts with the script's settings.
 */
export function splitPostData(sql: string): PostDataPlan {
  const m = markersOf(sql);
  const end = m ? sql.indexOf(`\n${m.parallelEnd}`) : -1;
  const fkEnd = m ? sql.indexOf(`\n${m.fkEnd}`) : -1;
  if (!m || end < 0 || fkEnd < end) {
    return { parallel: [], foreignKeys: [], rest: sql, restPieces: [sql] };
  }
  const [preamble = '', ...statements] = sql.slice(0, end + 1).split(`\n${m.parallel}`);
  const marked = (piece: string) => {
    const newline = piece.indexOf('\n');
    return {
      tables: JSON.parse(piece.slice(0, newline)) as string[],
      sql: `${preamble}\n${piece.slice(newline + 1)}`,
    };
  };
  const fkText = sql.slice(end + 1 + m.parallelEnd.length, fkEnd + 1);
  const foreignKeys = fkText.split(`\n${m.fk}`).slice(1).map(marked);
  const rest = `${preamble}\n${sql.slice(fkEnd + 1 + m.fkEnd.length)}`;
  return {
    parallel: statements.map(marked),
    foreignKeys,
    rest,
    restPieces: rest.split(m.commitPoint),
  };
}

export interface PostDataResult {
  sql: string;
  /** Foreign keys left out because they point at a table outside the selection. */
  skipped: UnsupportedObj[];
}

/**
 * Everything that is faster or only possible once the rows are in: keys and constraints (built
 * once on loaded data), indexes, triggers, rules, policies, comments, sequence values and the
 * refresh of materialized views.
 */
export function renderPostData(
  catalog: Catalog,
  options: { attachKeysFromBytes?: number } = {},
): PostDataResult {
  const relations = new Map<number, { schema: string; name: string; kind: string }>();
  for (const t of catalog.tables) relations.set(t.oid, t);
  for (const v of catalog.views) relations.set(v.oid, v);
  const tablesByOid = new Map(catalog.tables.map((t) => [t.oid, t]));
  const rel = (oid: number) => {
    const r = relations.get(oid)!;
    return qualified(r.schema, r.name);
  };
  // A partition created with PARTITION OF gets its parent's keys, indexes and triggers by itself.
  const isAttachedPartition = (oid: number) => {
    const t = tablesByOid.get(oid);
    return Boolean(
      t?.partitionBound && t.parents[0] !== undefined && tablesByOid.has(t.parents[0]),
    );
  };
  const constraintOids = new Set(catalog.constraints.map((c) => c.oid));
  const skipped: UnsupportedObj[] = [];
  const m = newMarkers();
  const mark = (table: string) => `${m.parallel}${JSON.stringify([table])}\n`;
  const out: string[] = [
    m.line,
    '-- Lifeboat post-data: constraints, indexes, triggers, policies, comments, sequences.\n',
    SCRIPT_HEADER,
  ];
  const section = (title: string) => out.push(`\n-- ${title}\n`);
  const only = (oid: number) => (tablesByOid.get(oid)?.kind === 'p' ? '' : 'ONLY ');

  const emitted = catalog.constraints.filter((c) => {
    if (c.parentOid !== 0 && constraintOids.has(c.parentOid)) return false;
    if (!c.isLocal) return false;
    if (c.type === 'f' && !relations.has(c.refTableOid)) {
      skipped.push({
        kind: 'foreign key',
        name: `${c.name} on ${rel(c.tableOid)}`,
        reason: 'references a table outside the selection',
      });
      return false;
    }
    return true;
  });
  // Steps that call the source roles' functions run only where that is safe (step-guard.ts).
  const steps = stepsOf(catalog);
  const guarded = new Set<number>();
  // Each parallel statement may run on any connection: it selects its tablespace itself.
  const tablespaces = tablespaceSelector(catalog);
  const constraintIndex = new Map(
    catalog.indexes.filter((i) => i.backsConstraint).map((i) => [`${i.tableOid}/${i.name}`, i]),
  );
  const addConstraint = (c: (typeof emitted)[number], parallel = false) => {
    const sql = `ALTER TABLE ${c.type === 'c' ? '' : only(c.tableOid)}${rel(c.tableOid)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def}`;
    const step = steps.constraint(c);
    if (step) guarded.add(c.oid);
    // A check or foreign key not validated is still there (and holds for new rows).
    const fallback = c.type === 'c' || c.type === 'f' ? `${sql} NOT VALID` : undefined;
    const tablespace =
      parallel && (c.type === 'p' || c.type === 'u' || c.type === 'x')
        ? tablespaces.select(
            constraintIndex.get(`${c.tableOid}/${c.name}`)?.tablespace ?? null,
            false,
          )
        : '';
    out.push(
      `${parallel ? mark(rel(c.tableOid)) : ''}${tablespace}${step ? guardStep(sql, step, fallback) : `${sql};\n`}`,
    );
  };
  const addIndex = (i: (typeof catalog.indexes)[number], def: string) => {
    const step = steps.index(i);
    if (step) guarded.add(i.oid);
    out.push(
      `${mark(rel(i.tableOid))}${tablespaces.select(i.tablespace, false)}${step ? guardStep(def, step) : `${def};\n`}`,
    );
  };
  /** A statement about an index or constraint a guard may have skipped runs only if it is there. */
  const about = (oid: number, sql: string, present: () => string) =>
    guarded.has(oid) ? ifPresent(sql.replace(/;\n$/, ''), present()) : sql;
  const schemaOf = (oid: number) => relations.get(oid)!.schema;

  // Keys and indexes depend on nothing but their own table: a restore may build them in
  // parallel. Each such statement follows a marker line; psql reads the markers as comments.
  // A primary key or unique constraint added with ALTER TABLE holds an ACCESS EXCLUSIVE lock
  // while its index builds, so no other index of the table could build meanwhile. Built as a
  // unique index (SHARE lock, alongside the others) and attached afterwards, instantly.
  const backingIndex = new Map(
    catalog.indexes.filter((i) => i.backsConstraint).map((i) => [`${i.tableOid}/${i.name}`, i]),
  );
  const indexes = catalog.indexes.filter(
    (i) => !(i.isPartition && isAttachedPartition(i.tableOid)),
  );
  // Worth a second statement only where builds are long and more than one runs on the table.
  const attachFrom = options.attachKeysFromBytes ?? 8 * 1024 * 1024;
  const builds = new Map<number, number>();
  for (const c of emitted)
    if (c.type === 'p' || c.type === 'u' || c.type === 'x' || c.type === 'c')
      builds.set(c.tableOid, (builds.get(c.tableOid) ?? 0) + 1);
  for (const i of indexes)
    if (!i.backsConstraint) builds.set(i.tableOid, (builds.get(i.tableOid) ?? 0) + 1);
  const indexFirst = (c: (typeof emitted)[number]) => {
    if (c.type !== 'p' && c.type !== 'u') return undefined;
    const table = tablesByOid.get(c.tableOid);
    if (table?.kind !== 'r' || table.sizeBytes < attachFrom) return undefined;
    if ((builds.get(c.tableOid) ?? 0) < 2) return undefined;
    // Only a plain b-tree key can be attached (not deferrable, not temporal).
    if (/\b(DEFERRABLE|WITHOUT OVERLAPS)\b/.test(c.def)) return undefined;
    const index = backingIndex.get(`${c.tableOid}/${c.name}`);
    return index && / USING btree \(/.test(index.def) ? index : undefined;
  };
  const attached = emitted.filter((c) => indexFirst(c));

  section('primary keys, unique and exclusion constraints');
  for (const c of emitted) {
    if (c.type !== 'p' && c.type !== 'u' && c.type !== 'x') continue;
    const index = indexFirst(c);
    if (index) addIndex(index, index.def);
    else addConstraint(c, true);
  }

  section('indexes');
  for (const i of indexes) {
    if (i.backsConstraint) continue;
    // An index on a partitioned table is printed "ON ONLY"; without ONLY it is built on every partition.
    let def = i.def;
    for (const head of ['CREATE INDEX ', 'CREATE UNIQUE INDEX ']) {
      const prefix = `${head}${i.quotedName} ON ONLY `;
      if (def.startsWith(prefix)) def = `${head}${i.quotedName} ON ${def.slice(prefix.length)}`;
    }
    addIndex(i, def);
  }

  section('check constraints');
  for (const c of emitted) if (c.type === 'c') addConstraint(c, true);
  out.push(m.parallelEnd);

  // Foreign keys need the keys above. Two may run at once when they share no table (each
  // locks both of its tables); the marker names the tables.
  section('foreign keys');
  // First the keys built as indexes above become constraints (marked like foreign keys: a
  // restore runs each once its table's indexes are built, before keys that point at it).
  for (const c of attached) {
    out.push(`${m.fk}${JSON.stringify([rel(c.tableOid)])}\n`);
    const index = indexFirst(c)!;
    out.push(
      about(
        index.oid,
        `ALTER TABLE ONLY ${rel(c.tableOid)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${quoteIdent(c.name)};\n`,
        () => indexPresent(schemaOf(c.tableOid), index.name),
      ),
    );
  }
  for (const c of emitted) {
    if (c.type !== 'f') continue;
    out.push(`${m.fk}${JSON.stringify([rel(c.tableOid), rel(c.refTableOid)])}\n`);
    addConstraint(c);
  }
  out.push(m.fkEnd);
  // An index built on a partitioned table is built on each partition in its tablespace: a
  // partition's index that lay elsewhere is moved where it lay (as the partition itself is).
  const byOid = new Map(catalog.indexes.map((i) => [i.oid, i]));
  const moved = catalog.indexes.filter((i) => {
    const parent = i.parentOid ? byOid.get(i.parentOid) : undefined;
    return parent && isAttachedPartition(i.tableOid) && parent.tablespace !== i.tablespace;
  });
  if (moved.length > 0) {
    section('indexes of partitions elsewhere than their partitioned index');
    out.push(PARTITION_TABLESPACE_HELPER);
    for (const i of moved) {
      out.push(tablespaces.select(i.tablespace, false));
      out.push(partitionTablespaceStatement(qualified(schemaOf(i.tableOid), i.name)));
    }
  }
  // The rest creates nothing that takes space (a refresh keeps its tablespace).
  out.push(tablespaces.select(null, false));

  section('domain checks calling source code, after the rows (domain-checks.ts)');
  out.push(...renderLateDomainChecks(domainChecksOf(catalog)));

  section('clustering, replica identity, index statistics');
  for (const i of indexes) {
    const present = () => indexPresent(schemaOf(i.tableOid), i.name);
    if (i.clustered) {
      out.push(
        about(i.oid, `ALTER TABLE ${rel(i.tableOid)} CLUSTER ON ${quoteIdent(i.name)};\n`, present),
      );
    }
    for (const alter of indexAlters(i, relations.get(i.tableOid)!).split(/(?<=;\n)/))
      if (alter) out.push(about(i.oid, alter, present));
  }

  section('statistics objects, rules, triggers');
  for (const s of catalog.statistics) out.push(renderStatistics(s));
  for (const r of catalog.rules) {
    out.push(`${r.def.trimEnd().replace(/;?$/, ';')}\n${ruleState(r, rel(r.tableOid))}`);
  }
  const triggersByOid = new Map(catalog.triggers.map((t) => [t.oid, t]));
  const parentOf = (t: (typeof catalog.triggers)[number]) =>
    t.parentOid !== 0 ? triggersByOid.get(t.parentOid) : undefined;
  for (const t of catalog.triggers) {
    if (!parentOf(t)) out.push(`${t.def};\n${triggerState(t, rel(t.tableOid))}`);
  }
  // A partition's copy of its parent's trigger comes with the parent's; only its state may differ.
  for (const t of catalog.triggers) {
    const parent = parentOf(t);
    if (parent) out.push(triggerState(t, rel(t.tableOid), parent));
  }

  section('row level security');
  for (const p of catalog.policies) {
    const head = `CREATE POLICY ${quoteIdent(p.name)} ON ${rel(p.tableOid)} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${POLICY_COMMANDS[p.command] ?? 'ALL'}`;
    let tail = '';
    if (p.using) tail += ` USING (${p.using})`;
    if (p.withCheck) tail += ` WITH CHECK (${p.withCheck})`;
    out.push(p.roles ? policyForRoles(head, p.roles, tail) : `${head} TO PUBLIC${tail};\n`);
  }
  for (const t of catalog.tables) {
    if (t.rowSecurity) out.push(`ALTER TABLE ${rel(t.oid)} ENABLE ROW LEVEL SECURITY;\n`);
    if (t.forceRowSecurity) out.push(`ALTER TABLE ${rel(t.oid)} FORCE ROW LEVEL SECURITY;\n`);
  }

  section('sequences');
  for (const s of catalog.sequences) {
    if (s.ownedBy && relations.has(s.ownedBy.tableOid)) {
      out.push(
        `ALTER SEQUENCE ${qualified(s.schema, s.name)} OWNED BY ${rel(s.ownedBy.tableOid)}.${quoteIdent(s.ownedBy.column)};\n`,
      );
    }
    if (s.valueLeftOut) continue;
    out.push(
      `SELECT pg_catalog.setval(${quoteLiteral(qualified(s.schema, s.name))}, ${s.lastValue}, ${s.isCalled});\n`,
    );
  }

  section('comments');
  out.push(
    ...renderComments({ ...catalog, constraints: emitted, indexes }, rel, (oid, sql, present) =>
      about(oid, sql, present),
    ),
  );

  section('materialized views');
  for (const o of orderedPreData(catalog)) {
    if (o.kind === 'view' && o.obj.kind === 'm' && o.obj.populated) {
      const sql = `REFRESH MATERIALIZED VIEW ${qualified(o.obj.schema, o.obj.name)}`;
      const step = steps.matview(o.obj);
      out.push(step ? guardStep(sql, step) : `${sql};\n`);
    }
  }

  // Last, as pg_dump orders them: publications and subscriptions once their tables exist,
  // event triggers once nothing else is left to run (none fires during the restore), default
  // privileges once no object is created any more (none gets them from the restore).
  section('publications, subscriptions');
  for (const p of catalog.publications) out.push(renderPublication(p, rel));
  for (const s of catalog.subscriptions) out.push(renderSubscription(s));
  section('event triggers');
  for (const e of catalog.eventTriggers) out.push(renderEventTrigger(e));
  section('default privileges');
  for (const d of catalog.defaultPrivileges) out.push(renderDefaultPrivileges(d));

  // Owners and privileges were given in pre-data; what could not be given is reported now.
  section('owners pre-data could not give');
  out.push(OWNER_REPORT);
  return { sql: out.join(''), skipped };
}

/**
 * A policy for named roles, as grants are given: roles the target server lacks are left out
 * with a ROLE_MISSING warning (nobody can be a member of a role that does not exist, so the
 * policy means the same for everyone else), and a policy none of whose roles exist is skipped.
 */
function policyForRoles(head: string, roles: string[], tail: string): string {
  const what = head.slice('CREATE '.length, head.indexOf(' AS '));
  const body = `DECLARE r text; present text[] := '{}'; missing text[] := '{}';
BEGIN
FOREACH r IN ARRAY ARRAY[${roles.map(quoteLiteral).join(', ')}]::text[] LOOP
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN present := present || pg_catalog.quote_ident(r);
  ELSE missing := missing || r;
  END IF;
END LOOP;
IF pg_catalog.cardinality(missing) > 0 THEN
  RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}ROLE_MISSING: role `)} || pg_catalog.array_to_string(missing, ', ') || ' does not exist on this server; ' || CASE WHEN pg_catalog.cardinality(present) = 0 THEN ${quoteLiteral(`skipped: ${what}`)} ELSE ${quoteLiteral(`${what} is created for the other roles only`)} END;
END IF;
IF pg_catalog.cardinality(present) = 0 THEN RETURN; END IF;
EXECUTE ${quoteLiteral(`${head} TO `)} || pg_catalog.array_to_string(present, ', ') || ${quoteLiteral(tail)};
END`;
  return `DO ${quoteLiteral(body)};\n`;
}
function renderComments(
  catalog: Catalog,
  rel: (oid: number) => string,
  about: (oid: number, sql: string, present: () => string) => string,
): string[] {
  const out: string[] = [];
  const comment = (target: string, text: string | null, guard?: [number, () => string]) => {
    if (text === null) return;
    const sql = `COMMENT ON ${target} IS ${quoteLiteral(text)};\n`;
    out.push(guard ? about(guard[0], sql, guard[1]) : sql);
  };
  for (const s of catalog.schemas) comment(`SCHEMA ${quoteIdent(s.name)}`, s.comment);
  for (const t of catalog.types) {
    const name = qualified(t.schema, t.name);
    comment(`${t.kind === 'd' ? 'DOMAIN' : 'TYPE'} ${name}`, t.comment);
    for (const c of t.constraints)
      comment(`CONSTRAINT ${quoteIdent(c.name)} ON DOMAIN ${name}`, c.comment);
    for (const a of t.attributes) comment(`COLUMN ${name}.${quoteIdent(a.name)}`, a.comment);
  }
  for (const f of catalog.functions) {
    comment(
      `${f.kind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${qualified(f.schema, f.name)}(${f.identityArgs})`,
      f.comment,
    );
  }
  for (const s of catalog.sequences) comment(`SEQUENCE ${qualified(s.schema, s.name)}`, s.comment);
  for (const t of catalog.tables) {
    comment(`TABLE ${rel(t.oid)}`, t.comment);
    for (const c of t.columns) comment(`COLUMN ${rel(t.oid)}.${quoteIdent(c.name)}`, c.comment);
  }
  for (const v of catalog.views) {
    comment(`${v.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW'} ${rel(v.oid)}`, v.comment);
    for (const c of v.columns) comment(`COLUMN ${rel(v.oid)}.${quoteIdent(c.name)}`, c.comment);
  }
  const tableSchema = new Map([...catalog.tables, ...catalog.views].map((t) => [t.oid, t.schema]));
  for (const c of catalog.constraints)
    comment(`CONSTRAINT ${quoteIdent(c.name)} ON ${rel(c.tableOid)}`, c.comment, [
      c.oid,
      () => constraintPresent(rel(c.tableOid), c.name),
    ]);
  for (const i of catalog.indexes)
    comment(`INDEX ${qualified(tableSchema.get(i.tableOid)!, i.name)}`, i.comment, [
      i.oid,
      () => indexPresent(tableSchema.get(i.tableOid)!, i.name),
    ]);
  for (const t of catalog.triggers)
    comment(`TRIGGER ${quoteIdent(t.name)} ON ${rel(t.tableOid)}`, t.comment);
  for (const p of catalog.policies)
    comment(`POLICY ${quoteIdent(p.name)} ON ${rel(p.tableOid)}`, p.comment);
  for (const r of catalog.rules)
    comment(`RULE ${quoteIdent(r.name)} ON ${rel(r.tableOid)}`, r.comment);
  return out;
}
