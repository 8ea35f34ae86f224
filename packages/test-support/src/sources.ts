import { Readable } from 'node:stream';
import type { Source } from '@lifeboat/core';

/** A source that emits the files it is given and records what a restore hands it. */
export function fileSource(files: Record<string, string | Buffer>, section = 'config') {
  const restored: Record<string, Buffer> = {};
  const source = {
    id: 'test',
    section,
    describe: () => 'test files',
    async connect() {},
    async close() {},
    async backup(ctx) {
      for (const [path, body] of Object.entries(files)) {
        const data = Buffer.from(body);
        await ctx.emit({
          path,
          type: 'file',
          size: data.length,
          body: () => Readable.from([data]),
        });
      }
      return { files: Object.keys(files).map((p) => ({ path: `${section}/${p}` })) };
    },
    // Reports its files as the config-files source does (the result's `files`), in `config/`.
    report: (_summary, entries) =>
      section === 'config' ? { files: entries.filter((e) => e.type === 'file').length } : {},
    async restore(ctx) {
      for await (const entry of ctx.entries) {
        const chunks: Buffer[] = [];
        for await (const c of entry.stream as AsyncIterable<Buffer>) chunks.push(c);
        restored[entry.relativePath] = Buffer.concat(chunks);
      }
      return { restored: Object.keys(restored).length };
    },
  } satisfies Source;
  return { source, restored };
}

/** Restore options of the database-like test sources (id `tables`): `{ tables: ['small'] }`. */
export interface TableRestoreOptions {
  tables?: string[];
}

declare module '@lifeboat/core' {
  /** `engine.restore(ref, { tables: { tables: ['small'] } })`, as a database source's. */
  interface RestoreOptionsBySource {
    tables: TableRestoreOptions;
  }
}

/** A partial restore of some tables restores their section alone (as the postgres source's). */
export const partialTables = (options: TableRestoreOptions) =>
  (options.tables?.length ?? 0) > 0 ? 'tables restore database tables' : undefined;
