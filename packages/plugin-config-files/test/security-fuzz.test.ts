import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, isLifeboatError, memoryStorage } from '@lifeboat/core';
import { configFilesSource } from '@lifeboat/plugin-config-files';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ARCHIVE_CODES = [
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
];

let work: string;
let app: string;
const FILES: Record<string, string | Buffer> = {
  '.env.production': 'DATABASE_URL=postgres://app:pw@db/app\nSECRET_KEY=abc\n',
  'nginx.prod.conf': `server { listen 443 ssl; }\n${'# line\n'.repeat(300)}`,
  'ssl/privkey.pem': '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
  'ssl/cert.pem': Buffer.alloc(4000, 42),
};
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cfg-fuzz-'));
  app = join(work, 'app');
  await fs.mkdir(join(app, 'ssl'), { recursive: true });
  for (const [name, body] of Object.entries(FILES)) await fs.writeFile(join(app, name), body);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const source = () =>
  configFilesSource({
    files: [join(app, '.env.production'), join(app, 'nginx.prod.conf')],
    directories: [{ path: join(app, 'ssl'), name: 'ssl' }],
  });

const readTree = async (dir: string, prefix = ''): Promise<Record<string, Buffer>> => {
  const out: Record<string, Buffer> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, await readTree(join(dir, e.name), rel));
    else out[rel] = await fs.readFile(join(dir, e.name));
  }
  return out;
};

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip'),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('truncate'),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('insert'),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
);

describe('config-files restore of a mutated archive (property, real folders)', () => {
  it('restores identical files, or refuses with a known code and writes nothing', async () => {
    const storage = memoryStorage();
    const engine = createEngine({ sources: [source()], storage });
    const { file } = await engine.backup();
    const chunks: Buffer[] = [];
    for await (const c of (await storage.get(file)) as AsyncIterable<Buffer>) chunks.push(c);
    const valid = Buffer.concat(chunks);
    let run = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (mutations) => {
        let bytes = Buffer.from(valid);
        for (const m of mutations as {
          kind: string;
          at: number;
          mask?: number;
          bytes?: Uint8Array;
        }[]) {
          const at = Math.floor(m.at * bytes.length);
          if (m.kind === 'flip') {
            if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)]! ^= m.mask!;
          } else if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
          else bytes = Buffer.concat([bytes.subarray(0, at), m.bytes!, bytes.subarray(at)]);
        }
        const damaged = memoryStorage();
        await damaged.put(file, bytes);
        const restorer = createEngine({ sources: [source()], storage: damaged });
        const target = join(work, `target-${run++}`);
        try {
          await restorer.restore(file, { 'config-files': { targetDir: target } });
        } catch (error) {
          refused++;
          expect(isLifeboatError(error), String(error)).toBe(true);
          expect(ARCHIVE_CODES).toContain((error as { code: string }).code);
          // The target folder holds nothing: not a file, not a staging folder.
          const left = await fs.readdir(target).catch(() => [] as string[]);
          expect(left).toEqual([]);
          return;
        }
        const tree = await readTree(target);
        expect(Object.keys(tree).sort()).toEqual(Object.keys(FILES).sort());
        for (const [name, body] of Object.entries(FILES))
          expect(tree[name]!.equals(Buffer.from(body))).toBe(true);
        await fs.rm(target, { recursive: true, force: true });
      }),
      { numRuns: 150 },
    );
    expect(refused).toBeGreaterThan(50);
  });
});

describe('config file names that try to leave config/', () => {
  it.each(['../evil', '..', '.', 'a/../../b', '/etc/passwd', 'x\0y', '..\\..\\windows'])(
    'refuses the archive name %j with CONFIG_INVALID',
    (name) => {
      let error: unknown;
      try {
        configFilesSource({ files: [{ path: join(app, 'nginx.prod.conf'), name }] });
      } catch (e) {
        error = e;
      }
      expect(isLifeboatError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain('cannot be archived under the name');
    },
  );

  it('a folder name that tries the same is refused too; nothing is written outside', async () => {
    expect(() =>
      configFilesSource({ directories: [{ path: join(app, 'ssl'), name: '../ssl' }] }),
    ).toThrow(/cannot be archived/);
  });
});
