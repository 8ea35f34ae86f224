import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  ageCipher,
  createEngine,
  type LifeboatError,
  memoryStorage,
  parseAgeIdentityFile,
  parseAgeRecipients,
} from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

const run = promisify(execFile);

const hasBinary = (name: string) => {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const ageCli = hasBinary('age') && hasBinary('age-keygen');
if (!ageCli) {
  console.warn(
    'cipher-age: the `age` command-line tool is not installed (apt-get install age); interop tests are skipped',
  );
}

let identity: string;
let recipient: string;
let otherIdentity: string;
let otherRecipient: string;

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  otherIdentity = await generateIdentity();
  otherRecipient = await identityToRecipient(otherIdentity);
});

const encryptBuffer = (data: Buffer, recipients = [recipient]) =>
  buffer(ageCipher({ recipients }).encrypt(Readable.from([data])));

describe('ageCipher: options', () => {
  it('refuses a malformed recipient, naming it, and a malformed identity without quoting it', () => {
    const badRecipient = (() => {
      try {
        ageCipher({ recipients: ['age1notakey'] });
      } catch (e) {
        return e as LifeboatError;
      }
    })();
    expect(badRecipient?.code).toBe('CONFIG_INVALID');
    expect(badRecipient?.message).toContain('age1notakey');

    const secretLooking =
      'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    const badIdentity = (() => {
      try {
        ageCipher({ recipients: [recipient], identities: [secretLooking] });
      } catch (e) {
        return e as LifeboatError;
      }
    })();
    expect(badIdentity?.code).toBe('CONFIG_INVALID');
    expect(badIdentity?.message).toMatch(/identity 1 is not/);
    expect(JSON.stringify(badIdentity)).not.toContain(secretLooking);
    expect(badIdentity?.message).not.toContain(secretLooking);

    const lowercase = 'age-secret-key-1abc';
    const schemaError = (() => {
      try {
        ageCipher({ recipients: [recipient], identities: [lowercase] });
      } catch (e) {
        return e as LifeboatError;
      }
    })();
    expect(schemaError?.code).toBe('CONFIG_INVALID');
    expect(schemaError?.message).not.toContain(lowercase);

    expect(() => ageCipher({ recipients: [] })).toThrow(/at least one recipient/);
  });

  it('describes its recipients and never an identity', () => {
    const cipher = ageCipher({ recipients: [recipient, otherRecipient], identities: [identity] });
    expect(cipher.id).toBe('age');
    expect(cipher.extension).toBe('.age');
    expect(cipher.describe()).toContain(recipient);
    expect(cipher.describe()).toContain(otherRecipient);
    expect(cipher.describe()).not.toContain(identity);
    expect(cipher.describe()).not.toContain('AGE-SECRET');
  });

  it('parses identity files and recipient lists', () => {
    const file = `# created: 2026-01-01\n# public key: ${recipient}\n${identity}\n\n${otherIdentity}\r\n`;
    expect(parseAgeIdentityFile(file)).toEqual([identity, otherIdentity]);
    const junk = 'password=hunter2-but-not-a-key';
    const error = (() => {
      try {
        parseAgeIdentityFile(`# comment\n${junk}\n`, '/run/secrets/age.txt');
      } catch (e) {
        return e as LifeboatError;
      }
    })();
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.message).toContain('Line 2 of /run/secrets/age.txt');
    expect(error?.message).not.toContain('hunter2');
    expect(() => parseAgeIdentityFile('# only comments\n')).toThrow(/holds no age identity/);
    expect(parseAgeRecipients(` ${recipient}, ${otherRecipient}\n# old key\n`)).toEqual([
      recipient,
      otherRecipient,
    ]);
  });
});

describe('ageCipher: streams', () => {
  it('round-trips empty, small, chunk-sized and odd-sized data', async () => {
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    for (const size of [0, 1, 65535, 65536, 65537, 3 * 65536, 1_000_003]) {
      const data = randomBytes(size);
      const encrypted = await buffer(cipher.encrypt(Readable.from(size ? [data] : [])));
      expect(encrypted.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      if (size >= 64) expect(encrypted.includes(data.subarray(0, 64))).toBe(false);
      const decrypted = await buffer(cipher.decrypt(Readable.from([encrypted])));
      expect(decrypted.equals(data), `size ${size}`).toBe(true);
    }
  });

  it('decrypts with any of several identities, and encrypts to several recipients', async () => {
    const data = randomBytes(100_000);
    const encrypted = await encryptBuffer(data, [otherRecipient, recipient]);
    const onlyOther = ageCipher({ recipients: [recipient], identities: [otherIdentity] });
    expect((await buffer(onlyOther.decrypt(Readable.from([encrypted])))).equals(data)).toBe(true);
    const both = ageCipher({ recipients: [recipient], identities: [identity, otherIdentity] });
    expect((await buffer(both.decrypt(Readable.from([encrypted])))).equals(data)).toBe(true);
  });

  it('encrypts to the identity’s own public key when no recipient is given', async () => {
    const cipher = ageCipher({ identities: [identity] });
    const data = randomBytes(5000);
    const encrypted = await buffer(cipher.encrypt(Readable.from([data])));
    const check = ageCipher({ recipients: [otherRecipient], identities: [identity] });
    expect((await buffer(check.decrypt(Readable.from([encrypted])))).equals(data)).toBe(true);
  });

  it('pulls from its input only as fast as its output is read (bounded memory)', async () => {
    let pulled = 0;
    const input = new Readable({
      read() {
        pulled += 1024 * 1024;
        this.push(Buffer.alloc(1024 * 1024, 1));
      },
    });
    const output = ageCipher({ recipients: [recipient] }).encrypt(input);
    const iterator = output[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((r) => setTimeout(r, 300));
    // Nothing reads the output now: the input must not be drained into memory.
    expect(pulled).toBeLessThan(8 * 1024 * 1024);
    output.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(input.destroyed).toBe(true);
  });

  it('streams 128 MiB through encrypt and decrypt holding only a few chunks', async () => {
    const total = 128 * 1024 * 1024;
    const block = randomBytes(1024 * 1024);
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= total) return void this.push(null);
        sent += block.length;
        this.push(Buffer.from(block));
      },
    });
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    // Count live memory only: collect garbage before each sample.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage();
    let peakBuffers = base.arrayBuffers;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 100);
    const began = performance.now();
    const hash = createHash('sha256');
    let got = 0;
    try {
      for await (const chunk of cipher.decrypt(cipher.encrypt(source)) as AsyncIterable<Buffer>) {
        got += chunk.length;
        hash.update(chunk);
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - began) / 1000;
    const expected = createHash('sha256');
    for (let i = 0; i < total / block.length; i++) expected.update(block);
    expect(got).toBe(total);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    const buffers = (peakBuffers - base.arrayBuffers) / 2 ** 20;
    const heap = (peakHeap - base.heapUsed) / 2 ** 20;
    console.info(
      `age encrypt+decrypt of 128 MiB in one process: ${(total / 2 ** 20 / seconds).toFixed(0)} MiB/s, peak live buffers +${buffers.toFixed(1)} MiB, heap +${heap.toFixed(1)} MiB`,
    );
    expect(buffers).toBeLessThan(16);
    expect(heap).toBeLessThan(32);
  }, 120_000);

  it('passes an input failure through unchanged', async () => {
    const boom = new Error('the archive writer failed');
    let sent = 0;
    const input = new Readable({
      read() {
        if (sent > 300_000) return void this.destroy(boom);
        sent += 100_000;
        this.push(randomBytes(100_000));
      },
    });
    const error = await buffer(ageCipher({ recipients: [recipient] }).encrypt(input)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(boom);
  });
});

describe('ageCipher: failures', () => {
  let data: Buffer;
  let encrypted: Buffer;
  beforeAll(async () => {
    data = randomBytes(300_000);
    encrypted = await encryptBuffer(data);
  });

  it('needs an identity to decrypt (IDENTITY_REQUIRED), and closes the input', () => {
    const input = Readable.from([encrypted]);
    const cipher = ageCipher({ recipients: [recipient] });
    let error: LifeboatError | undefined;
    try {
      cipher.decrypt(input);
    } catch (e) {
      error = e as LifeboatError;
    }
    expect(error?.code).toBe('IDENTITY_REQUIRED');
    expect(error?.hint).toContain('age identity');
    expect(input.destroyed).toBe(true);
  });

  it('says DECRYPTION_FAILED for a wrong identity, without key material', async () => {
    const cipher = ageCipher({ recipients: [otherRecipient], identities: [otherIdentity] });
    const error = await rejectionOf(buffer(cipher.decrypt(Readable.from([encrypted]))));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(error.message).toMatch(/encrypted to other recipients/);
    const text = `${error.message} ${error.hint} ${JSON.stringify(error)}`;
    expect(text).not.toContain(otherIdentity);
    expect(text).not.toContain(identity);
    expect(text).not.toContain('AGE-SECRET-KEY-1');
  });

  it('fails on a flipped payload byte, possibly mid-stream, with DECRYPTION_FAILED', async () => {
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const tampered = Buffer.from(encrypted);
    tampered[tampered.length - 70_000]! ^= 0x01;
    let plain = 0;
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of cipher.decrypt(
          Readable.from([tampered]),
        ) as AsyncIterable<Buffer>)
          plain += chunk.length;
      })(),
    );
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(error.message).toMatch(/altered, damaged or truncated/);
    // The chunks before the damaged one were authenticated and delivered; the rest never is.
    expect(plain).toBeLessThan(data.length);
  });

  it('fails on a flipped header byte, a truncated file and a file that is not age', async () => {
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const header = Buffer.from(encrypted);
    const macLine = header.indexOf('\n---') + 5;
    header[macLine + 3] = header[macLine + 3] === 0x41 ? 0x42 : 0x41;
    expect((await rejectionOf(buffer(cipher.decrypt(Readable.from([header]))))).code).toBe(
      'DECRYPTION_FAILED',
    );

    const truncated = encrypted.subarray(0, encrypted.length - 65_552);
    const cut = await rejectionOf(buffer(cipher.decrypt(Readable.from([truncated]))));
    expect(cut.code).toBe('DECRYPTION_FAILED');

    const plaintext = Buffer.from('DATABASE_URL=postgres://app:s3cr3t-pw@db/app\nmore lines\n');
    const notAge = await rejectionOf(buffer(cipher.decrypt(Readable.from([plaintext]))));
    expect(notAge.code).toBe('DECRYPTION_FAILED');
    expect(notAge.message).toMatch(/not a binary age file/);
    expect(`${notAge.message} ${String(notAge.cause)}`).not.toContain('s3cr3t-pw');
  });
});

describe.skipIf(!ageCli)('ageCipher: interoperability with the age command-line tool', () => {
  let dir: string;
  let keyFile: string;
  let cliRecipient: string;
  let cliIdentity: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-'));
    keyFile = join(dir, 'key.txt');
    await run('age-keygen', ['-o', keyFile]);
    cliRecipient = (await run('age-keygen', ['-y', keyFile])).stdout.trim();
    cliIdentity = parseAgeIdentityFile(await readFile(keyFile, 'utf8'))[0]!;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pipeThrough = (command: string, args: string[], input: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(Buffer.concat(out))
          : reject(new Error(`${command} exited ${code}: ${Buffer.concat(err)}`)),
      );
      child.stdin.end(input);
    });

  it('writes files that `age -d` decrypts', async () => {
    const data = randomBytes(1_234_567);
    const encrypted = await encryptBuffer(data, [cliRecipient]);
    const decrypted = await pipeThrough('age', ['-d', '-i', keyFile], encrypted);
    expect(decrypted.equals(data)).toBe(true);
  });

  it('reads files that `age -r` encrypts', async () => {
    const data = randomBytes(777_777);
    const encrypted = await pipeThrough('age', ['-r', cliRecipient, '-r', recipient], data);
    const ours = ageCipher({ recipients: [cliRecipient], identities: [cliIdentity] });
    expect((await buffer(ours.decrypt(Readable.from([encrypted])))).equals(data)).toBe(true);
    const byOtherKey = ageCipher({ recipients: [recipient], identities: [identity] });
    expect((await buffer(byOtherKey.decrypt(Readable.from([encrypted])))).equals(data)).toBe(true);
  });

  it('writes an engine archive that `age -d … | tar -xz` extracts, and restores one that `age -r` encrypted', async () => {
    const files = { '.env.production': 'SECRET=1\n', 'nginx.prod.conf': 'server {}\n' };
    const storage = memoryStorage();
    const { source } = fileSource(files);
    const engine = createEngine({
      sources: [source],
      storage,
      cipher: ageCipher({ recipients: [cliRecipient] }),
    });
    const result = await engine.backup();
    expect(result.file).toMatch(/\.tar\.gz\.age$/);
    const stored = await buffer(await storage.get(result.file));
    const archivePath = join(dir, result.file);
    await writeFile(archivePath, stored);
    const out = join(dir, 'extracted');
    await run('mkdir', ['-p', out]);
    await run('sh', ['-c', `age -d -i "${keyFile}" "${archivePath}" | tar -xz -C "${out}"`]);
    expect(await readFile(join(out, 'config/.env.production'), 'utf8')).toBe(
      files['.env.production'],
    );
    expect(await readFile(join(out, 'config/nginx.prod.conf'), 'utf8')).toBe(
      files['nginx.prod.conf'],
    );
    expect((await readdir(out)).sort()).toEqual(
      expect.arrayContaining(['BACKUP_INFO.txt', 'config', 'manifest.json']),
    );
    await engine.close();

    // Now the other way: a plain archive, encrypted by the age tool, restored by Lifeboat.
    const plainStorage = memoryStorage();
    const plainEngine = createEngine({
      sources: [fileSource(files).source],
      storage: plainStorage,
    });
    const plain = await plainEngine.backup();
    const plainBytes = await buffer(await plainStorage.get(plain.file));
    const byCli = await pipeThrough('age', ['-r', cliRecipient], plainBytes);
    const target = memoryStorage();
    await target.put(`${plain.id}.tar.gz.age`, byCli);
    const restoring = fileSource({});
    const restorer = createEngine({
      sources: [restoring.source],
      storage: target,
      cipher: ageCipher({ identities: [cliIdentity] }),
    });
    expect((await restorer.verify(plain.id)).ok).toBe(true);
    await restorer.restore(plain.id);
    expect(restoring.restored['.env.production']?.toString()).toBe(files['.env.production']);
    expect(restoring.restored['nginx.prod.conf']?.toString()).toBe(files['nginx.prod.conf']);
  });
});

describe('ageCipher in the engine (memory storage)', () => {
  const files = { '.env.production': 'DB_PASSWORD=x\n', 'ssl/server.key': randomBytes(3000) };

  it('backs up, lists, verifies and restores an encrypted archive', async () => {
    const storage = memoryStorage();
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const engine = createEngine({ sources: [fileSource(files).source], storage, cipher });
    const result = await engine.backup();
    expect(result.encrypted).toBe(true);
    expect(result.file).toBe(`${result.id}.tar.gz.age`);
    const stored = await buffer(await storage.get(result.file));
    expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(stored.includes(Buffer.from('DB_PASSWORD'))).toBe(false);
    const listed = await engine.list();
    expect(listed.map((a) => [a.file, a.encrypted])).toEqual([[result.file, true]]);
    const verify = await engine.verify(result.id);
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    const restoring = fileSource({});
    const restorer = createEngine({ sources: [restoring.source], storage, cipher });
    await restorer.restore(result.id);
    expect(restoring.restored['.env.production']?.toString()).toBe(files['.env.production']);
    expect(restoring.restored['ssl/server.key']?.equals(files['ssl/server.key'] as Buffer)).toBe(
      true,
    );
  });

  it('lists without an identity; verify and restore then say IDENTITY_REQUIRED; a wrong one DECRYPTION_FAILED', async () => {
    const storage = memoryStorage();
    const writer = createEngine({
      sources: [fileSource(files).source],
      storage,
      cipher: ageCipher({ recipients: [recipient] }),
    });
    const { id } = await writer.backup();

    for (const cipher of [ageCipher({ recipients: [recipient] }), undefined]) {
      const restoring = fileSource({});
      const engine = createEngine({
        sources: [restoring.source],
        storage,
        ...(cipher ? { cipher } : {}),
      });
      expect((await engine.list()).map((a) => a.id)).toEqual([id]);
      const verify = await engine.verify(id);
      expect(verify.ok).toBe(false);
      expect(verify.problems.map((p) => p.code)).toEqual(['IDENTITY_REQUIRED']);
      expect((await rejectionOf(engine.restore(id))).code).toBe('IDENTITY_REQUIRED');
      expect(restoring.restored).toEqual({});
    }

    const restoring = fileSource({});
    const wrong = createEngine({
      sources: [restoring.source],
      storage,
      cipher: ageCipher({ recipients: [otherRecipient], identities: [otherIdentity] }),
    });
    const verify = await wrong.verify(id);
    expect(verify.problems.map((p) => p.code)).toEqual(['DECRYPTION_FAILED']);
    const error = await rejectionOf(wrong.restore(id));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(JSON.stringify(error)).not.toContain(otherIdentity);
    expect(restoring.restored).toEqual({});
  });

  it('refuses a tampered archive in verify and restore, before the source writes anything', async () => {
    const storage = memoryStorage();
    const cipher = ageCipher({ recipients: [recipient], identities: [identity] });
    const big = { ...files, 'big.bin': randomBytes(400_000) };
    const writer = createEngine({ sources: [fileSource(big).source], storage, cipher });
    const { id, file } = await writer.backup();
    const stored = await buffer(await storage.get(file));
    stored[Math.floor(stored.length / 2)]! ^= 0x10;
    await storage.put(file, stored, { overwrite: true });

    const restoring = fileSource({});
    const engine = createEngine({ sources: [restoring.source], storage, cipher });
    const verify = await engine.verify(id);
    expect(verify.ok).toBe(false);
    expect(verify.problems[0]?.code).toBe('DECRYPTION_FAILED');
    const error = await rejectionOf(engine.restore(id));
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(restoring.restored).toEqual({});
  });
});
