import './errors.js';
import type { Warn } from '@lifeboat/core';
import { type PgClient, quoteIdent, quoteLiteral } from './connection.js';
import type { DatabaseLocale } from './summary.js';

export async function readDatabaseLocale(
  client: PgClient,
  versionNum: number,
): Promise<DatabaseLocale> {
  const provider = versionNum >= 150000 ? 'd.datlocprovider' : `'c'::"char"`;
  const locale =
    versionNum >= 170000 ? 'd.datlocale' : versionNum >= 150000 ? 'd.daticulocale' : 'NULL::text';
  const rules = versionNum >= 160000 ? 'd.daticurules' : 'NULL::text';
  const { rows } = await client.query(
    `SELECT pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, ${provider}::text AS provider,
       d.datcollate::text AS collate, d.datctype::text AS ctype, ${locale} AS locale, ${rules} AS icu_rules
     FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`,
  );
  const r = rows[0];
  return {
    encoding: r.encoding,
    provider: r.provider,
    collate: r.collate,
    ctype: r.ctype,
    locale: r.locale,
    icuRules: r.icu_rules,
  };
}

/** The current database's default tablespace (pg_dump --create names it unless pg_default). */
export async function databaseTablespace(client: PgClient): Promise<string | null> {
  const { rows } = await client.query(
    `SELECT t.spcname FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
     WHERE d.datname = pg_catalog.current_database()`,
  );
  return (rows[0]?.spcname as string | undefined) ?? null;
}

const PROVIDERS = { c: 'libc', i: 'icu', b: 'builtin' } as const;

/** What a target of this version can be told; null when it cannot express the provider. */
export function createDatabaseOptions(l: DatabaseLocale, targetVersionNum: number): string | null {
  if (l.provider !== 'c' && targetVersionNum < (l.provider === 'b' ? 170000 : 150000)) return null;
  if (l.icuRules && targetVersionNum < 160000) return null;
  const parts = [`ENCODING = ${quoteLiteral(l.encoding)}`];
  if (targetVersionNum >= 150000) parts.push(`LOCALE_PROVIDER = ${PROVIDERS[l.provider]}`);
  if (l.collate === l.ctype) parts.push(`LOCALE = ${quoteLiteral(l.collate)}`);
  else parts.push(`LC_COLLATE = ${quoteLiteral(l.collate)}`, `LC_CTYPE = ${quoteLiteral(l.ctype)}`);
  if (l.locale !== null && l.provider === 'i') parts.push(`ICU_LOCALE = ${quoteLiteral(l.locale)}`);
  if (l.locale !== null && l.provider === 'b')
    parts.push(`BUILTIN_LOCALE = ${quoteLiteral(l.locale)}`);
  if (l.icuRules) parts.push(`ICU_RULES = ${quoteLiteral(l.icuRules)}`);
  return parts.join(' ');
}

export const describeLocale = (l: DatabaseLocale): string =>
  `encoding ${l.encoding}, ${PROVIDERS[l.provider]} locale ${l.locale ?? (l.collate === l.ctype ? l.collate : `${l.collate}/${l.ctype}`)}`;

/**
 * CREATE DATABASE with the source's encoding and locale; when the target cannot make it (a
 * locale its operating system lacks, an older server without the provider), the server's
 * default with a DATABASE_LOCALE_CHANGED warning: a disaster restore onto another machine should
 * not fail for it, and the operator learns that text may now sort differently.
 */
export async function createDatabase(
  client: PgClient,
  database: string,
  locale: DatabaseLocale | undefined,
  warn: Warn | undefined,
  tablespace?: string,
): Promise<void> {
  const inTablespace = tablespace ? ` TABLESPACE = ${quoteIdent(tablespace)}` : '';
  const plain = `CREATE DATABASE ${quoteIdent(database)} TEMPLATE template0${inTablespace}`;
  if (!locale) {
    await client.query(plain);
    return;
  }
  const version = Number(
    (await client.query('SHOW server_version_num')).rows[0].server_version_num,
  );
  const options = createDatabaseOptions(locale, version);
  let reason = 'this server cannot express it';
  if (options !== null) {
    try {
      await client.query(`${plain} ${options}`);
      return;
    } catch (error) {
      // 42P04: it exists (a concurrent restore made it): the caller handles that.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === undefined) throw error;
      reason = (error as Error).message;
    }
  }
  await client.query(plain);
  warn?.(
    'DATABASE_LOCALE_CHANGED',
    `Database ${database} was created with the server's default encoding and locale, not the source's (${describeLocale(locale)}): ${reason}. Text may sort and compare differently than in the source.`,
  );
}
