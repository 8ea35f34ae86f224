import type { Readable } from 'node:stream';
import type { EntryRecord, VerifyProblem } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import {
  ARCHIVE_FORMAT_VERSION,
  MANIFEST_PATH,
  type Manifest,
  manifestSchema,
} from '../manifest.js';
import { type ArchiveReaderOptions, readArchive } from './reader.js';

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export interface ArchiveCheck {
  manifest?: Manifest;
  problems: VerifyProblem[];
  entries: number;
  bytes: number;
}

export interface VerifyArchiveOptions extends ArchiveReaderOptions {
  onEntry?: (path: string, bytes: number) => void;
}

async function readSmall(stream: Readable, limit: number, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new LifeboatError('MANIFEST_INVALID', `${path} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseManifest(bytes: Buffer): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new LifeboatError('MANIFEST_INVALID', 'manifest.json is not valid JSON', {
      cause: error,
    });
  }
  const version = (json as { formatVersion?: unknown })?.formatVersion;
  if (typeof version === 'number' && version > ARCHIVE_FORMAT_VERSION) {
    throw new LifeboatError(
      'FORMAT_UNSUPPORTED',
      `The archive has format version ${version}; this Lifeboat reads up to ${ARCHIVE_FORMAT_VERSION}`,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LifeboatError(
      'MANIFEST_INVALID',
      `manifest.json is invalid at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'unknown problem'}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/**
 * Reads a whole archive, hashing every entry, and compares what it holds with its manifest.
 * Never throws for a bad archive: every problem is returned with its own code.
 */
export async function checkArchive(
  input: Readable,
  options: VerifyArchiveOptions = {},
): Promise<ArchiveCheck> {
  const actual = new Map<
    string,
    { type: string; size: number; sha256?: string; linkname?: string }
  >();
  const problems: VerifyProblem[] = [];
  let manifest: Manifest | undefined;
  let manifestError: LifeboatError | undefined;
  let bytes = 0;
  try {
    for await (const entry of readArchive(input, options)) {
      if (entry.path === MANIFEST_PATH) {
        try {
          manifest = parseManifest(await readSmall(entry.stream, MAX_MANIFEST_BYTES, entry.path));
        } catch (error) {
          manifestError = error as LifeboatError;
        }
        continue;
      }
      let size = 0;
      for await (const chunk of entry.stream as AsyncIterable<Buffer>) size += chunk.length;
      const sha256 = await entry.digest;
      bytes += size;
      options.onEntry?.(entry.path, size);
      actual.set(entry.path, {
        type: entry.type,
        size,
        ...(entry.type === 'file' ? { sha256 } : {}),
        ...(entry.linkname ? { linkname: entry.linkname } : {}),
      });
    }
  } catch (error) {
    const e = error as LifeboatError;
    problems.push({
      code: e.code ?? 'ARCHIVE_CORRUPT',
      message: e.message,
      ...(pathOf(e) ? { path: pathOf(e) } : {}),
    });
    return { ...(manifest ? { manifest } : {}), problems, entries: actual.size, bytes };
  }
  if (manifestError) {
    problems.push({
      code: manifestError.code,
      message: manifestError.message,
      path: MANIFEST_PATH,
    });
    return { problems, entries: actual.size, bytes };
  }
  if (!manifest) {
    problems.push({
      code: 'ARCHIVE_NO_MANIFEST',
      message: 'The archive has no manifest.json',
      path: MANIFEST_PATH,
    });
    return { problems, entries: actual.size, bytes };
  }
  const expected = new Map(manifest.entries.map((e) => [e.path, e]));
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) {
      problems.push({
        code: 'ENTRY_MISSING',
        message: `"${path}" is listed in the manifest but missing`,
        path,
      });
    } else {
      const mismatch = entryMismatch(path, got, want);
      if (mismatch) problems.push(mismatch);
    }
  }
  for (const path of actual.keys()) {
    if (!expected.has(path) && !isInfoFile(path)) {
      problems.push({
        code: 'ENTRY_UNEXPECTED',
        message: `"${path}" is not listed in the manifest`,
        path,
      });
    }
  }
  for (const source of manifest.sources) {
    if (!manifest.entries.some((e) => e.path.startsWith(`${source.section}/`))) {
      problems.push({
        code: 'ENTRY_MISSING',
        message: `The manifest promises a "${source.section}/" section (${source.id}) with no entries`,
        path: `${source.section}/`,
      });
    }
  }
  if (!actual.has('BACKUP_INFO.txt')) {
    problems.push({
      code: 'ENTRY_MISSING',
      message: 'BACKUP_INFO.txt is missing',
      path: 'BACKUP_INFO.txt',
    });
  }
  return { manifest, problems, entries: actual.size, bytes };
}

const isInfoFile = (path: string) => path === 'BACKUP_INFO.txt' || path === 'SHA256SUMS';
const pathOf = (e: LifeboatError) =>
  typeof e.details?.path === 'string' ? e.details.path : undefined;

/** How an entry as read differs from its manifest record (type, size, sha256, link), if it does. */
export function entryMismatch(
  path: string,
  got: { type: string; size: number; sha256?: string | undefined; linkname?: string | undefined },
  want: EntryRecord,
): VerifyProblem | undefined {
  const problem = (message: string): VerifyProblem => ({ code: 'ENTRY_MISMATCH', message, path });
  if (got.type !== want.type)
    return problem(`"${path}" is a ${got.type}, the manifest says ${want.type}`);
  if (want.type === 'file' && got.size !== want.size)
    return problem(`"${path}" has ${got.size} bytes, the manifest says ${want.size}`);
  if (want.type === 'file' && got.sha256 !== want.sha256)
    return problem(`"${path}" has another sha256 than the manifest`);
  if (want.type === 'symlink' && got.linkname !== want.linkname)
    return problem(`"${path}" links elsewhere than the manifest says`);
  return undefined;
}
