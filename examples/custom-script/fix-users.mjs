// An operator's manual data fix, built from the API: back up two tables to a separate folder,
// then restore one of them side by side (users → users_restored) to compare and copy rows back
// without touching production.
//
//   DATABASE_URL=postgres://… node fix-users.mjs ./manual-backups
import { createEngine } from '@lifeboat/core';
import { postgresSource } from '@lifeboat/plugin-postgres';
import { localStorage } from '@lifeboat/storage-local';

const dir = process.argv[2] ?? './manual-backups';
const engine = createEngine({
  sources: [
    postgresSource({
      connectionString: process.env.DATABASE_URL,
      tables: ['users', 'organizations'],
    }),
  ],
  storage: localStorage({ dir }),
  prefix: 'manual_users',
  retention: { keepLast: 20 },
});
engine.events.on('source:item', (t) => {
  if (t.phase === 'backup' && t.kind === 'table') console.log(`  ${t.name}: ${t.rows} rows`);
});
try {
  const backup = await engine.backup();
  console.log(`backed up to ${dir}/${backup.file}`);
  // Beside the live table, in the configured database: asked for by name (inPlace).
  await engine.restore(backup.id, {
    postgres: { inPlace: true, tables: ['users'], asSuffix: '_restored' },
  });
  console.log('restored users side by side as users_restored; compare with:');
  console.log('  SELECT * FROM users_restored EXCEPT SELECT * FROM users;');
} finally {
  await engine.close();
}
