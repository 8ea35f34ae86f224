import { redact, redactDeep, registerSecret } from '@lifeboat/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Password characters a user may type raw into a URL (the parser stops at `/`, `?`, `#`). */
const urlPassword = fc.string({
  unit: fc.constantFrom(..."abcXYZ019@:!$%&'()*+,;=-._~[]".split('')),
  minLength: 1,
  maxLength: 24,
});
/** Anything but a quote or a backslash, spaces included (libpq's quoted keyword values). */
const quotedValue = fc.string({
  unit: fc.constantFrom(...'ab XYZ09 @:=!&;"/#-'.split('')),
  minLength: 1,
  maxLength: 24,
});
const bech32 = fc.string({
  unit: fc.constantFrom(...'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'.split('')),
  minLength: 10,
  maxLength: 80,
});

describe('redact', () => {
  it('hides a URL password whole, raw @ and : included', () => {
    expect(redact('postgres://u:p@ss@h/db')).toBe('postgres://u:***@h/db');
    fc.assert(
      fc.property(urlPassword, (password) => {
        const text = `connecting to postgres://app:${password}@db.example.com:5432/app failed`;
        expect(redact(text)).toBe(
          'connecting to postgres://app:***@db.example.com:5432/app failed',
        );
      }),
    );
  });

  it('hides a quoted keyword password with spaces, and unquoted ones', () => {
    expect(redact("host=h password='a b' dbname=d")).toBe("host=h password='***' dbname=d");
    expect(redact('host=h password = secret dbname=d')).toBe('host=h password = *** dbname=d');
    fc.assert(
      fc.property(quotedValue, (value) => {
        const out = redact(`host=db password='${value}' user=app`);
        expect(out).toBe("host=db password='***' user=app");
      }),
    );
  });

  it('hides every age identity, post-quantum and plugin ones included', () => {
    fc.assert(
      fc.property(fc.constantFrom('1', 'PQ-1', 'pq-1'), bech32, (kind, body) => {
        const key = `AGE-SECRET-KEY-${kind}${body}`;
        const out = redact(`identity ${key} rejected`);
        expect(out).not.toContain(body);
      }),
    );
    expect(redact('AGE-PLUGIN-YUBIKEY-1QQQSOMETHING')).not.toContain('QQQSOMETHING');
  });

  it('hides registered secrets of any length, short ones where they stand alone', () => {
    expect(redact('login as ab failed: "ab"', ['ab'])).toBe('login as *** failed: "***"');
    // A short secret does not blank the words that merely contain it.
    expect(redact('table about', ['ab'])).toBe('table about');
    expect(redact('pw is x!', ['x!'])).toBe('pw is ***');
    registerSecret('q7');
    expect(redact('password q7 refused')).toBe('password *** refused');
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'abcdXYZ0189@:!$-_'.split('')), minLength: 1 }),
        fc.constantFrom(' ', '"', "'", '\n', '(', ')'),
        (secret, around) => {
          // A secret made of the delimiter itself cannot be told apart from it.
          fc.pre(!secret.includes(around));
          const out = redact(`error${around}${secret}${around}end`, [secret]);
          expect(out).toBe(`error${around}***${around}end`);
        },
      ),
    );
  });

  it('redactDeep reaches nested strings', () => {
    const doc = redactDeep({ a: [{ url: 'postgres://u:p@ss@h/db' }], n: 1 });
    expect(doc).toEqual({ a: [{ url: 'postgres://u:***@h/db' }], n: 1 });
  });
});
