import { accessMethods } from './access-methods.js';
import { aggregates } from './aggregates.js';
import { casts } from './casts.js';
import { collations, conversions } from './collations.js';
import { foreignDataWrappers, foreignServers, userMappings } from './foreign.js';
import { foreignTables } from './foreign-tables.js';
import { languages, transforms } from './languages.js';
import { operatorClasses, operatorFamilies, operators } from './operators.js';
import type { KindSpec } from './read-kinds.js';
import { tsConfigurations, tsDictionaries, tsParsers, tsTemplates } from './text-search.js';
import { baseTypes, rangeTypes } from './types.js';

/**
 * Every kind pre-data writes through the generic object (see GenericObj). Ranks follow
 * pg_dump_sort.c's order of object types: types 0, functions 1, sequences 2, tables 3, views 4.
 */
export const PRE_DATA_KINDS: readonly KindSpec[] = [
  languages,
  collations,
  transforms,
  baseTypes,
  rangeTypes,
  casts,
  aggregates,
  accessMethods,
  operators,
  operatorFamilies,
  operatorClasses,
  conversions,
  tsParsers,
  tsTemplates,
  tsDictionaries,
  tsConfigurations,
  foreignDataWrappers,
  foreignServers,
  userMappings,
  foreignTables,
];
