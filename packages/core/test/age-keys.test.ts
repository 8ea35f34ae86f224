import {
  Decrypter,
  Encrypter,
  generateHybridIdentity,
  generateX25519Identity,
  identityToRecipient,
} from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAgeIdentity, isAgeRecipient } from '../src/cipher/age-keys.js';

const libraryTakesRecipient = (s: string) => {
  try {
    new Encrypter().addRecipient(s);
    return true;
  } catch {
    return false;
  }
};
const libraryTakesIdentity = (s: string) => {
  try {
    new Decrypter().addIdentity(s);
    return true;
  } catch {
    return false;
  }
};

describe('age key checks without loading the library', () => {
  it('accept the keys the library makes: X25519 and post-quantum hybrid', async () => {
    for (const identity of [await generateX25519Identity(), await generateHybridIdentity()]) {
      const recipient = await identityToRecipient(identity);
      expect(isAgeIdentity(identity)).toBe(true);
      expect(isAgeRecipient(recipient)).toBe(true);
      // A key of one kind is never taken for the other.
      expect(isAgeRecipient(identity)).toBe(false);
      expect(isAgeIdentity(recipient)).toBe(false);
    }
  });

  it('agree with the library on every one-character change of a key', async () => {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L1-b';
    fc.assert(
      fc.property(
        fc.nat(),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'insert', 'delete'),
        (at, c, how) => {
          for (const key of [recipient, identity]) {
            const i = at % key.length;
            const changed =
              how === 'replace'
                ? key.slice(0, i) + c + key.slice(i + 1)
                : how === 'insert'
                  ? key.slice(0, i) + c + key.slice(i)
                  : key.slice(0, i) + key.slice(i + 1);
            expect(isAgeRecipient(changed)).toBe(libraryTakesRecipient(changed));
            expect(isAgeIdentity(changed)).toBe(libraryTakesIdentity(changed));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuse what is not a key at all', () => {
    for (const s of ['', 'age1', 'age1qqqqqq', 'AGE-SECRET-KEY-1', 'age1pq1xyz', 'hello']) {
      expect(isAgeRecipient(s)).toBe(false);
      expect(isAgeIdentity(s)).toBe(false);
    }
  });
});
