import { fileURLToPath } from 'node:url';
import { kindsPictureB } from './support/kinds-picture-b.js';
import { describeKindsRestore } from './support/kinds-suite.js';

// Base types, ranges, aggregates, operators, operator families and classes, foreign tables:
// the fixture also has a table of the base type and a range, an index with a custom operator
// class and a view of a user-defined aggregate (a sample database whose every restore failed).
describeKindsRestore({
  title: 'pre-data object kinds (base types, ranges, aggregates, operators, foreign tables)',
  fixture: fileURLToPath(new URL('./fixtures/pre-data-kinds-b.sql', import.meta.url)),
  roles: ['owner', 'reader'],
  prefix: 'prekindsb',
  kinds: kindsPictureB,
  // Operators, aggregates, classes… are placed in their schema by restore-time choices.
  filtered: { excludeSchemas: ['public'] },
  overExisting: true,
});
