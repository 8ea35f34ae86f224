import { adminClient, type TestServer } from './servers.js';

const USER = (
  catalog: string,
  alias: string,
) => `${alias}.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend e
  WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype IN ('e', 'i'))`;
const COMMENT = (catalog: string, alias: string) =>
  `obj_description(${alias}.oid, '${catalog}') AS comment`;

/**
 * The object kinds of catalog/kinds as the catalog holds them (definition, owner, ACL,
 * comment), for servers the installed pg_dump cannot read.
 */
export async function kindsPicture(server: TestServer, database: string) {
  const run = async (text: string) => {
    const client = adminClient(server, database);
    await client.connect();
    try {
      await client.query("SET search_path = ''");
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    collations:
      await run(`SELECT co.collname, co.collprovider, co.collisdeterministic, co.collcollate, co.collctype,
        to_jsonb(co) ->> 'colllocale' AS locale, to_jsonb(co) ->> 'colliculocale' AS icu_locale,
        pg_get_userbyid(co.collowner) AS owner, ${COMMENT('pg_collation', 'co')}
      FROM pg_collation co WHERE ${USER('pg_collation', 'co')} ORDER BY 1`),
    conversions:
      await run(`SELECT c.conname, c.conforencoding, c.contoencoding, c.conproc::text, c.condefault,
        pg_get_userbyid(c.conowner) AS owner, ${COMMENT('pg_conversion', 'c')}
      FROM pg_conversion c WHERE ${USER('pg_conversion', 'c')} ORDER BY 1`),
    parsers:
      await run(`SELECT p.prsname, p.prsstart::text, p.prstoken::text, p.prsend::text, p.prsheadline::text,
        p.prslextype::text, ${COMMENT('pg_ts_parser', 'p')}
      FROM pg_ts_parser p WHERE ${USER('pg_ts_parser', 'p')} ORDER BY 1`),
    templates:
      await run(`SELECT t.tmplname, t.tmplinit::text, t.tmpllexize::text, ${COMMENT('pg_ts_template', 't')}
      FROM pg_ts_template t WHERE ${USER('pg_ts_template', 't')} ORDER BY 1`),
    dictionaries:
      await run(`SELECT d.dictname, (SELECT tmplname FROM pg_ts_template WHERE oid = d.dicttemplate) AS template,
        d.dictinitoption, pg_get_userbyid(d.dictowner) AS owner, ${COMMENT('pg_ts_dict', 'd')}
      FROM pg_ts_dict d WHERE ${USER('pg_ts_dict', 'd')} ORDER BY 1`),
    configurations:
      await run(`SELECT c.cfgname, (SELECT prsname FROM pg_ts_parser WHERE oid = c.cfgparser) AS parser,
        pg_get_userbyid(c.cfgowner) AS owner, ${COMMENT('pg_ts_config', 'c')},
        (SELECT string_agg(m.maptokentype || ':' || m.mapseqno || ':' || m.mapdict::regdictionary::text, ',' ORDER BY m.maptokentype, m.mapseqno)
           FROM pg_ts_config_map m WHERE m.mapcfg = c.oid) AS mappings
      FROM pg_ts_config c WHERE ${USER('pg_ts_config', 'c')} ORDER BY 1`),
    languages:
      await run(`SELECT l.lanname, l.lanpltrusted, l.lanplcallfoid::regproc::text AS handler,
        l.laninline::regproc::text AS inline, l.lanvalidator::regproc::text AS validator, l.lanacl::text,
        pg_get_userbyid(l.lanowner) AS owner, ${COMMENT('pg_language', 'l')}
      FROM pg_language l WHERE ${USER('pg_language', 'l')} ORDER BY 1`),
    transforms:
      await run(`SELECT t.trftype::regtype::text, l.lanname, t.trffromsql::regprocedure::text AS from_sql,
        t.trftosql::regprocedure::text AS to_sql, ${COMMENT('pg_transform', 't')}
      FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ${USER('pg_transform', 't')} ORDER BY 1, 2`),
    casts:
      await run(`SELECT c.castsource::regtype::text AS source, c.casttarget::regtype::text AS target,
        c.castfunc::regprocedure::text AS func, c.castcontext, c.castmethod, ${COMMENT('pg_cast', 'c')}
      FROM pg_cast c WHERE ${USER('pg_cast', 'c')} ORDER BY 1, 2`),
    accessMethods: await run(`SELECT a.amname, a.amtype, a.amhandler::text, ${COMMENT('pg_am', 'a')}
      FROM pg_am a WHERE ${USER('pg_am', 'a')} ORDER BY 1`),
    relationAccessMethods: await run(`SELECT c.oid::regclass::text AS rel, a.amname FROM pg_class c
      JOIN pg_am a ON a.oid = c.relam WHERE c.oid >= 16384 AND c.relkind IN ('r', 'm') ORDER BY 1`),
    wrappers:
      await run(`SELECT w.fdwname, w.fdwhandler::regproc::text AS handler, w.fdwvalidator::regproc::text AS validator,
        w.fdwoptions, w.fdwacl::text, pg_get_userbyid(w.fdwowner) AS owner, ${COMMENT('pg_foreign_data_wrapper', 'w')}
      FROM pg_foreign_data_wrapper w WHERE ${USER('pg_foreign_data_wrapper', 'w')} ORDER BY 1`),
    servers: await run(`SELECT s.srvname, s.srvtype, s.srvversion, s.srvoptions, s.srvacl::text,
        (SELECT fdwname FROM pg_foreign_data_wrapper WHERE oid = s.srvfdw) AS fdw,
        pg_get_userbyid(s.srvowner) AS owner, ${COMMENT('pg_foreign_server', 's')}
      FROM pg_foreign_server s WHERE ${USER('pg_foreign_server', 's')} ORDER BY 1`),
    userMappings: await run(
      `SELECT m.srvname, m.usename, m.umoptions FROM pg_user_mappings m ORDER BY 1, 2`,
    ),
  };
}
