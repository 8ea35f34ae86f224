import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { kindsPicture } from './support/kinds-picture.js';
import { describeKindsRestore } from './support/kinds-suite.js';

describeKindsRestore({
  title:
    'pre-data object kinds (collations, conversions, text search objects, languages, transforms, casts, access methods, foreign data wrappers, servers and user mappings)',
  fixture: fileURLToPath(new URL('./fixtures/pre-data-kinds.sql', import.meta.url)),
  roles: ['owner'],
  prefix: 'prekinds',
  kinds: kindsPicture,
  checkSource: (kinds) => expect(kinds.userMappings).toHaveLength(2),
  // Languages, casts, transforms, access methods and wrappers live outside schemas.
  overExisting: true,
});
