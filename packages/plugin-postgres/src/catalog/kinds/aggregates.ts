import type { KindSpec } from './read-kinds.js';

/** `,\n    NAME = function` when the aggregate's function is set. */
const fn = (label: string, column: string) =>
  `CASE WHEN a.${column} <> 0 THEN E',\\n    ${label} = ' || a.${column}::pg_catalog.regproc::text ELSE '' END`;

/** FINALFUNC_MODIFY when it is not the default of the aggregate's kind (as DefineAggregate). */
const modify = (
  label: string,
  column: string,
) => `CASE WHEN a.${column} <> CASE WHEN a.aggkind = 'n' THEN 'r' ELSE 'w' END
  THEN E',\\n    ${label} = ' || CASE a.${column} WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END ELSE '' END`;

/**
 * CREATE AGGREGATE with every option of pg_dump's dumpAgg: plain, ordered-set and hypothetical
 * aggregates, moving-aggregate functions, combine/serial/deserial functions, sort operator,
 * parallel safety. Owned and commented as `AGGREGATE s.name(args)` (`(*)` for none); granted as
 * a function, with its argument types alone, as there is no GRANT ON AGGREGATE.
 */
export const aggregates: KindSpec = {
  kind: 'aggregate',
  catalog: 'pg_proc',
  rank: 1.1,
  query: () => `SELECT p.oid, 'p:' || p.oid AS key, x.name || x.identity AS sort_name,
  'CREATE AGGREGATE ' || x.name || CASE WHEN p.pronargs = 0 THEN '(*)' ELSE '(' || pg_catalog.pg_get_function_arguments(p.oid) || ')' END
    || E' (\\n    SFUNC = ' || a.aggtransfn::pg_catalog.regproc::text
    || E',\\n    STYPE = ' || pg_catalog.format_type(a.aggtranstype, NULL)
    || CASE WHEN a.aggtransspace <> 0 THEN E',\\n    SSPACE = ' || a.aggtransspace ELSE '' END
    || COALESCE(E',\\n    INITCOND = ' || pg_catalog.quote_literal(a.agginitval), '')
    || CASE WHEN a.aggfinalfn <> 0 THEN E',\\n    FINALFUNC = ' || a.aggfinalfn::pg_catalog.regproc::text
         || CASE WHEN a.aggfinalextra THEN E',\\n    FINALFUNC_EXTRA' ELSE '' END
         || ${modify('FINALFUNC_MODIFY', 'aggfinalmodify')} ELSE '' END
    || ${fn('COMBINEFUNC', 'aggcombinefn')} || ${fn('SERIALFUNC', 'aggserialfn')} || ${fn('DESERIALFUNC', 'aggdeserialfn')}
    || CASE WHEN a.aggmtransfn <> 0 THEN E',\\n    MSFUNC = ' || a.aggmtransfn::pg_catalog.regproc::text
         || E',\\n    MINVFUNC = ' || a.aggminvtransfn::pg_catalog.regproc::text
         || E',\\n    MSTYPE = ' || pg_catalog.format_type(a.aggmtranstype, NULL) ELSE '' END
    || CASE WHEN a.aggmtransspace <> 0 THEN E',\\n    MSSPACE = ' || a.aggmtransspace ELSE '' END
    || COALESCE(E',\\n    MINITCOND = ' || pg_catalog.quote_literal(a.aggminitval), '')
    || CASE WHEN a.aggmfinalfn <> 0 THEN E',\\n    MFINALFUNC = ' || a.aggmfinalfn::pg_catalog.regproc::text
         || CASE WHEN a.aggmfinalextra THEN E',\\n    MFINALFUNC_EXTRA' ELSE '' END
         || ${modify('MFINALFUNC_MODIFY', 'aggmfinalmodify')} ELSE '' END
    || COALESCE((SELECT E',\\n    SORTOP = OPERATOR(' || pg_catalog.quote_ident(sn.nspname) || '.' || so.oprname || ')'
         FROM pg_catalog.pg_operator so JOIN pg_catalog.pg_namespace sn ON sn.oid = so.oprnamespace WHERE so.oid = a.aggsortop), '')
    || CASE WHEN a.aggkind = 'h' THEN E',\\n    HYPOTHETICAL' ELSE '' END
    || CASE p.proparallel WHEN 's' THEN E',\\n    PARALLEL = safe' WHEN 'r' THEN E',\\n    PARALLEL = restricted' ELSE '' END
    || E'\\n);' AS ddl,
  'AGGREGATE ' || x.name || x.identity AS comment_target, 'AGGREGATE ' || x.name || x.identity AS owner_target,
  p.proowner AS owner_oid,
  'FUNCTION ' || x.name || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS grant_target, p.proacl AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace,
  LATERAL (SELECT pg_catalog.format('%I.%I', n.nspname, p.proname) AS name,
    CASE WHEN p.pronargs = 0 THEN '(*)' ELSE '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' END AS identity) x`,
};
