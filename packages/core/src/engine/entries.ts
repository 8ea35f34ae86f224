import type { EntryType } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import { readArchiveIndex } from './archive-index.js';
import { resolveArchive } from './archives.js';
import type { EngineContext } from './context.js';

export interface ListedEntry {
  path: string;
  type: EntryType;
  /** Bytes of the entry as restored. */
  size: number;
  /** Compressed bytes of the gzip members holding it, when the archive records locations. */
  storedBytes?: number;
  /** The table whose data this entry holds, and (on its first part) the table's rows. */
  table?: string;
  rows?: number;
}

export interface ArchiveEntries {
  id: string;
  file: string;
  entries: ListedEntry[];
  /**
   * Tables the backup took without their rows on purpose (postgres exclude table_data): they
   * have no entry, and a restore creates them empty.
   */
  rowsLeftOut?: string[];
}

interface TableParts {
  name: string;
  rows: number;
  parts: string[];
  rowsLeftOut?: boolean;
}

/** Tables a source summary lists with their data parts (the postgres summary's shape). */
function tablesOf(summary: Record<string, unknown>): TableParts[] {
  const tables = summary.tables;
  if (!Array.isArray(tables)) return [];
  return tables.filter(
    (t): t is TableParts =>
      typeof t?.name === 'string' && typeof t?.rows === 'number' && Array.isArray(t?.parts),
  );
}

/**
 * An archive's entries with their sizes and rows, from its index beside it: the archive itself
 * is not read. Archives written before the index have none (NOT_FOUND says how to look inside).
 */
export async function listEntries(ctx: EngineContext, ref = 'latest'): Promise<ArchiveEntries> {
  const archive = await resolveArchive(ctx, ref);
  if (archive.encrypted && !ctx.cipher) {
    throw new LifeboatError(
      'IDENTITY_REQUIRED',
      `Archive ${archive.id} is encrypted, and so is its index`,
    );
  }
  const index = await readArchiveIndex(ctx, archive);
  if (!index) {
    throw new LifeboatError('NOT_FOUND', `Archive ${archive.id} has no usable index`, {
      hint: 'Archives from older versions have none: `lifeboat verify ID` reads the whole archive and checks every entry.',
    });
  }
  const tableOf = new Map<string, { name: string; rows?: number }>();
  const rowsLeftOut: string[] = [];
  for (const source of index.manifest.sources) {
    for (const t of tablesOf(source.summary)) {
      if (t.rowsLeftOut === true) rowsLeftOut.push(t.name);
      for (const [i, part] of t.parts.entries()) {
        tableOf.set(`${source.section}/${part}`, {
          name: t.name,
          ...(i === 0 ? { rows: t.rows } : {}),
        });
      }
    }
  }
  const entries = index.manifest.entries.map((e): ListedEntry => {
    const table = tableOf.get(e.path);
    return {
      path: e.path,
      type: e.type,
      size: e.size,
      ...(e.location ? { storedBytes: e.location.end - e.location.member } : {}),
      ...(table
        ? { table: table.name, ...(table.rows !== undefined ? { rows: table.rows } : {}) }
        : {}),
    };
  });
  return {
    id: archive.id,
    file: archive.file,
    entries,
    ...(rowsLeftOut.length > 0 ? { rowsLeftOut } : {}),
  };
}
