import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSsl } from '../src/libpq-ssl.js';

/**
 * sslrootcert=system takes the system's trusted roots from node:tls, which is loaded only then
 * (a command that uses no SSL never loads it: start-up.test.ts).
 */
let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'lifeboat-ssl-home-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('sslrootcert=system', () => {
  it("verifies the server's name against the system's roots", () => {
    const policy = resolveSsl({ sslrootcert: 'system' }, {}, home);
    expect(policy.mode).toBe('verify-full');
    expect(policy.verify).toBe('full');
    const ca = policy.options?.ca;
    const roots = (Array.isArray(ca) ? ca : [ca]).map(String);
    expect(roots.length).toBeGreaterThan(0);
    expect(roots.join('\n')).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a weaker mode with it', () => {
    expect(() => resolveSsl({ sslrootcert: 'system', sslmode: 'require' }, {}, home)).toThrow(
      /weak sslmode "require"/,
    );
  });
});
