import { adminClient, type TestServer } from './servers.js';

/** User objects of a catalog: past the bootstrap OIDs, no extension's, none made along another. */
const USER = (catalog: string, alias: string) => `${alias}.oid >= 16384 AND NOT EXISTS (
  SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype IN ('e', 'i'))`;
const COMMENT = (catalog: string, alias: string) =>
  `obj_description(${alias}.oid, '${catalog}') AS comment`;
/** ACL items in a fixed order: their order carries no meaning. */
const ACL = (column: string) =>
  `(SELECT array_agg(x::text ORDER BY x::text) FROM unnest(${column}) x)::text AS acl`;

/**
 * The object kinds of kinds/types.ts, aggregates.ts, operators.ts and foreign-tables.ts as the
 * catalog holds them (definition, owner, ACL, comment), every OID printed as a name: for
 * servers the installed pg_dump cannot read.
 */
export async function kindsPictureB(server: TestServer, database: string) {
  const client = adminClient(server, database);
  await client.connect();
  const run = async (text: string) => (await client.query(text)).rows;
  try {
    await client.query("SET search_path = ''");
    const [{ v }] = await run("SELECT current_setting('server_version_num')::int AS v");
    return {
      baseTypes:
        await run(`SELECT t.oid::regtype::text AS type, t.typtype, t.typisdefined, t.typlen, t.typbyval, t.typalign,
          t.typstorage, t.typcategory, t.typispreferred, t.typdelim, t.typcollation <> 0 AS collatable, t.typdefault,
          t.typinput::text, t.typoutput::text, t.typreceive::text, t.typsend::text, t.typmodin::text,
          t.typmodout::text, t.typanalyze::text, ${v >= 140000 ? 't.typsubscript::text' : 'NULL'} AS subscript,
          t.typelem::regtype::text AS element, pg_get_userbyid(t.typowner) AS owner, ${ACL('t.typacl')},
          ${COMMENT('pg_type', 't')}
        FROM pg_type t WHERE t.typtype IN ('b', 'p') AND ${USER('pg_type', 't')} ORDER BY 1`),
      ranges:
        await run(`SELECT r.rngtypid::regtype::text AS type, r.rngsubtype::regtype::text AS subtype,
          ${v >= 140000 ? 'r.rngmultitypid::regtype::text' : 'NULL'} AS multirange,
          (SELECT collname FROM pg_collation WHERE oid = r.rngcollation) AS collation,
          (SELECT opcname FROM pg_opclass WHERE oid = r.rngsubopc) AS opclass,
          r.rngcanonical::text AS canonical, r.rngsubdiff::text AS subdiff,
          pg_get_userbyid(t.typowner) AS owner, ${ACL('t.typacl')}, ${COMMENT('pg_type', 't')}
        FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid WHERE ${USER('pg_type', 't')} ORDER BY 1`),
      typeColumnComments:
        await run(`SELECT t.oid::regtype::text AS type, a.attname, col_description(t.typrelid, a.attnum) AS comment
        FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
        WHERE ${USER('pg_type', 't')} ORDER BY 1, 2`),
      aggregates:
        await run(`SELECT a.aggfnoid::regprocedure::text AS aggregate, a.aggkind, a.aggnumdirectargs,
          a.aggtransfn::text, a.aggfinalfn::text, a.aggcombinefn::text, a.aggserialfn::text, a.aggdeserialfn::text,
          a.aggmtransfn::text, a.aggminvtransfn::text, a.aggmfinalfn::text, a.aggfinalextra, a.aggmfinalextra,
          a.aggfinalmodify, a.aggmfinalmodify, a.aggsortop::regoperator::text AS sortop,
          a.aggtranstype::regtype::text AS transtype, a.aggtransspace, a.aggmtranstype::regtype::text AS mtranstype,
          a.aggmtransspace, a.agginitval, a.aggminitval, p.proparallel, pg_get_function_arguments(p.oid) AS args,
          pg_get_userbyid(p.proowner) AS owner, ${ACL('p.proacl')}, ${COMMENT('pg_proc', 'p')}
        FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE ${USER('pg_proc', 'p')} ORDER BY 1`),
      operators:
        await run(`SELECT o.oid::regoperator::text AS operator, o.oprkind, o.oprcode::text, o.oprcom::regoperator::text AS com,
          o.oprnegate::regoperator::text AS negate, o.oprcanmerge, o.oprcanhash, o.oprrest::text, o.oprjoin::text,
          pg_get_userbyid(o.oprowner) AS owner, ${COMMENT('pg_operator', 'o')}
        FROM pg_operator o WHERE ${USER('pg_operator', 'o')} ORDER BY 1`),
      operatorFamilies:
        await run(`SELECT format('%I.%I', n.nspname, f.opfname) AS family, am.amname,
          pg_get_userbyid(f.opfowner) AS owner, ${COMMENT('pg_opfamily', 'f')}
        FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
        WHERE ${USER('pg_opfamily', 'f')} ORDER BY 1, 2`),
      operatorClasses:
        await run(`SELECT format('%I.%I', n.nspname, c.opcname) AS class, am.amname, f.opfname AS family,
          c.opcintype::regtype::text AS intype, c.opckeytype::regtype::text AS keytype, c.opcdefault,
          pg_get_userbyid(c.opcowner) AS owner, ${COMMENT('pg_opclass', 'c')}
        FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod
        JOIN pg_opfamily f ON f.oid = c.opcfamily WHERE ${USER('pg_opclass', 'c')} ORDER BY 1, 2`),
      // Each member of a user family, and what it is bound to (its class, or the family: loose).
      familyMembers:
        await run(`SELECT f.opfname AS family, 'operator' AS kind, ao.amopstrategy AS number,
          ao.amopopr::regoperator::text AS member, ao.amoppurpose AS purpose,
          (SELECT opfname FROM pg_opfamily WHERE oid = ao.amopsortfamily) AS sort_family,
          (SELECT string_agg(d.refclassid::regclass::text || ':' || d.deptype::text, ',') FROM pg_depend d
            WHERE d.classid = 'pg_amop'::regclass AND d.objid = ao.oid AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass)) AS bound
        FROM pg_amop ao JOIN pg_opfamily f ON f.oid = ao.amopfamily WHERE ${USER('pg_opfamily', 'f')}
        UNION ALL
        SELECT f.opfname, 'function', ap.amprocnum, ap.amproc::regprocedure::text || ' for ' || ap.amproclefttype::regtype::text
          || ', ' || ap.amprocrighttype::regtype::text, NULL, NULL,
          (SELECT string_agg(d.refclassid::regclass::text || ':' || d.deptype::text, ',') FROM pg_depend d
            WHERE d.classid = 'pg_amproc'::regclass AND d.objid = ap.oid AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass))
        FROM pg_amproc ap JOIN pg_opfamily f ON f.oid = ap.amprocfamily WHERE ${USER('pg_opfamily', 'f')}
        ORDER BY 1, 2, 3, 4`),
      foreignTables:
        await run(`SELECT c.oid::regclass::text AS foreign_table, s.srvname, ft.ftoptions,
          (SELECT string_agg(inhparent::regclass::text, ',') FROM pg_inherits WHERE inhrelid = c.oid) AS parents,
          pg_get_expr(c.relpartbound, c.oid) AS bound,
          (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ',' ORDER BY conname) FROM pg_constraint
            WHERE conrelid = c.oid AND contype = 'c') AS checks,
          (SELECT string_agg(pg_get_triggerdef(oid) || ' ' || tgenabled::text || ' ' || coalesce(obj_description(oid, 'pg_trigger'), ''),
            ',' ORDER BY tgname) FROM pg_trigger
            WHERE tgrelid = c.oid AND NOT tgisinternal) AS triggers,
          pg_get_userbyid(c.relowner) AS owner, ${ACL('c.relacl')},
          ${COMMENT('pg_class', 'c')}
        FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_foreign_server s ON s.oid = ft.ftserver
        WHERE c.relkind = 'f' ORDER BY 1`),
      foreignColumns:
        await run(`SELECT a.attrelid::regclass::text AS foreign_table, a.attnum, a.attname,
          format_type(a.atttypid, a.atttypmod) AS type, a.attfdwoptions, a.attnotnull, a.attislocal,
          (SELECT collname FROM pg_collation WHERE oid = a.attcollation) AS collation,
          pg_get_expr(d.adbin, d.adrelid) AS "default", col_description(a.attrelid, a.attnum) AS comment,
          ${ACL('a.attacl')}
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'f'
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2`),
    };
  } finally {
    await client.end();
  }
}
