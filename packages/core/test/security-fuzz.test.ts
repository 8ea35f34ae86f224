import { posix } from 'node:path';
import { Readable } from 'node:stream';
import {
  assertSafeEntryPath,
  decodeSegment,
  encodeSegment,
  isLifeboatError,
  readArchive,
} from '@lifeboat/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineWith, rawArchive, storeRaw } from './helpers.js';

/** The codes a damaged or hostile archive may be refused with; anything else is a bug. */
const ARCHIVE_CODES = new Set([
  'ARCHIVE_CORRUPT',
  'ARCHIVE_TRUNCATED',
  'ARCHIVE_NOT_GZIP',
  'ARCHIVE_NO_MANIFEST',
  'ARCHIVE_TOO_LARGE',
  'MANIFEST_INVALID',
  'FORMAT_UNSUPPORTED',
  'ENTRY_MISMATCH',
  'ENTRY_MISSING',
  'ENTRY_UNEXPECTED',
  'ENTRY_DUPLICATE',
  'UNSAFE_PATH',
]);

/** Every string of unicode code points (no lone surrogates: names come from UTF-8 text). */
const anyName = fc.string({ unit: 'binary', maxLength: 40 });
const tricky = fc.constantFrom(
  '',
  '.',
  '..',
  '../etc/passwd',
  '/',
  '\\',
  '\0',
  'a/b',
  '%',
  '%2E',
  'users"; DROP TABLE x; --',
  'naïve 表 🚀',
  'CON',
  '-rf',
);

describe('encodeSegment / decodeSegment (property)', () => {
  it('round-trips every name, and the encoded form is one safe path segment', () => {
    fc.assert(
      fc.property(fc.oneof(anyName, tricky), (name) => {
        const encoded = encodeSegment(name);
        expect(decodeSegment(encoded)).toBe(name);
        expect(encoded).toMatch(/^[A-Za-z0-9_%-]+$/);
        expect(encoded).not.toContain('/');
        expect(encoded).not.toContain('.');
        expect(encoded).not.toContain('\0');
        expect(encoded).not.toBe('..');
        // It is accepted as an archive path segment and stays in its folder.
        expect(assertSafeEntryPath(`database/data/${encoded}`)).toBe(`database/data/${encoded}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('never gives two names the same segment', () => {
    fc.assert(
      fc.property(fc.oneof(anyName, tricky), fc.oneof(anyName, tricky), (a, b) => {
        fc.pre(a !== b);
        expect(encodeSegment(a)).not.toBe(encodeSegment(b));
      }),
      { numRuns: 2000 },
    );
  });
});

/** Reference: what a safe relative archive path is. */
const isSafe = (p: string) =>
  p.length > 0 &&
  !p.startsWith('/') &&
  !/^[A-Za-z]:/.test(p) &&
  !p.includes('\\') &&
  !p.includes('\0') &&
  p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');

/** Entry names an attacker would try. */
const hostileName = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.constantFrom('..', '.', '', 'a', 'ssl', 'x\\..\\y', 'C:', '~', 'é', '🚀', ' '),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .chain((segments) =>
      fc.constantFrom('', '/', './', '../', '\\', 'C:\\').map((lead) => lead + segments.join('/')),
    ),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

describe('archive entry names (property)', () => {
  it('assertSafeEntryPath accepts exactly safe relative paths and refuses the rest with UNSAFE_PATH', () => {
    fc.assert(
      fc.property(hostileName, (name) => {
        const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
        let accepted: string | undefined;
        try {
          accepted = assertSafeEntryPath(name);
        } catch (error) {
          expect(isLifeboatError(error, 'UNSAFE_PATH')).toBe(true);
        }
        expect(accepted !== undefined).toBe(isSafe(trimmed));
        if (accepted !== undefined) {
          const resolved = posix.resolve('/restore/config', accepted);
          expect(resolved.startsWith('/restore/config/')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the reader hands out only safe paths inside their section, or refuses with UNSAFE_PATH', async () => {
    await fc.assert(
      fc.asyncProperty(hostileName, fc.boolean(), async (name, inSection) => {
        fc.pre(!name.includes('\0'));
        const full = inSection ? `config/${name}` : name;
        const bytes = await rawArchive([{ name: full, body: 'x' }]);
        const seen: string[] = [];
        try {
          for await (const entry of readArchive(Readable.from([bytes]))) {
            entry.stream.resume();
            seen.push(entry.path);
          }
        } catch (error) {
          expect(isLifeboatError(error), String(error)).toBe(true);
          expect(['UNSAFE_PATH', 'ENTRY_UNEXPECTED']).toContain((error as { code: string }).code);
          if ((error as { code: string }).code === 'ENTRY_UNEXPECTED') {
            // Only a safe top-level name that is not one of the archive's own files.
            expect(isSafe(full.replace(/\/$/, ''))).toBe(true);
            expect(full.replace(/\/$/, '')).not.toContain('/');
          }
          return;
        }
        expect(seen).toHaveLength(1);
        const path = seen[0]!;
        expect(isSafe(path)).toBe(true);
        expect(path).toBe(full.replace(/\/$/, ''));
        if (inSection) expect(posix.resolve('/r', path).startsWith('/r/config/')).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('truncate' as const),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
);

function mutate(
  bytes: Buffer,
  mutations: { kind: string; at: number; mask?: number; bytes?: Uint8Array }[],
) {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    const at = Math.floor(m.at * out.length);
    if (m.kind === 'flip' && out.length > 0) out[Math.min(at, out.length - 1)]! ^= m.mask!;
    else if (m.kind === 'truncate') out = out.subarray(0, at);
    else if (m.kind === 'insert')
      out = Buffer.concat([out.subarray(0, at), m.bytes!, out.subarray(at)]);
  }
  return out;
}

describe('mutated archives (property)', () => {
  const files = {
    '.env.production': 'DATABASE_URL=postgres://u:p@h/db\nKEY=value\n',
    'nginx.prod.conf': `server { listen 443; }\n${'# padding line\n'.repeat(200)}`,
    'ssl/cert.pem': Buffer.alloc(3000, 7),
  };
  let valid: Buffer | undefined;
  const validArchive = async () => {
    if (valid) return valid;
    const { engine, storage } = engineWith(files);
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    valid = Buffer.concat(chunks);
    return valid;
  };

  it('the reader never fails with anything but a LifeboatError of a known code', async () => {
    const base = await validArchive();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const bytes = mutate(base, mutations as never);
        try {
          for await (const entry of readArchive(Readable.from([bytes]))) {
            for await (const _ of entry.stream) {
              // read it all
            }
            await entry.digest;
          }
        } catch (error) {
          expect(isLifeboatError(error), String(error)).toBe(true);
          expect(ARCHIVE_CODES).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a restore of a mutated archive gives identical content or refuses before handing anything over', async () => {
    const base = await validArchive();
    const FILE = 'critical_backup_20260101_000000.tar.gz';
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (mutations) => {
        const bytes = mutate(base, mutations as never);
        const { engine, storage, restored } = engineWith(files);
        await storeRaw(storage, FILE, bytes);
        try {
          await engine.restore(FILE);
        } catch (error) {
          refused++;
          expect(isLifeboatError(error), String(error)).toBe(true);
          expect(ARCHIVE_CODES).toContain((error as { code: string }).code);
          expect(restored).toEqual({});
          return;
        }
        // The mutation hit something that does not matter (a gzip header field, padding).
        expect(Object.keys(restored).sort()).toEqual(Object.keys(files).sort());
        for (const [path, body] of Object.entries(files))
          expect(restored[path]!.equals(Buffer.from(body))).toBe(true);
      }),
      { numRuns: 250 },
    );
    expect(refused).toBeGreaterThan(100);
  });
});
