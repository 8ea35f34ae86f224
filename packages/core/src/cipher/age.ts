import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ArchiveCipher } from '../cipher.js';
import { parseOptions } from '../config.js';
import { hostHint, LifeboatError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { decryptionError } from './age-errors.js';
import { isAgeIdentity, isAgeRecipient } from './age-keys.js';
import { throughWeb } from './web-streams.js';

// Loaded on first use: most commands never encrypt, and the package takes a while to load.
let agePackage: Promise<typeof import('age-encryption')> | undefined;
const loadAge = () => {
  agePackage ??= import('age-encryption');
  return agePackage;
};
// Chunk-by-chunk reads (a partial restore of an encrypted archive) only.
let rangesModule: Promise<typeof import('./age-ranges.js')> | undefined;
const loadRanges = () => {
  rangesModule ??= import('./age-ranges.js');
  return rangesModule;
};

/**
 * Encryption of the whole archive stream with age (https://age-encryption.org, X25519
 * recipients), through the `age-encryption` package. The output is a plain binary age file:
 * `age -d -i key.txt archive.tar.gz.age | tar -xz` reads it, and files the `age` tool writes are
 * read here. age's STREAM payload authenticates every 64 KiB chunk, so a damaged or altered file
 * fails while it is read (possibly mid-stream); the engine verifies a whole archive before it
 * restores anything.
 */

const RECIPIENT_HINT = 'an age public key (age1…, as printed by `age-keygen -y`)';
const IDENTITY_HINT = 'an age secret key (AGE-SECRET-KEY-1…, as written by `age-keygen`)';

export const ageCipherOptionsSchema = z
  .object({
    /** Public keys the archives are encrypted to (BACKUP_ENCRYPTION_RECIPIENTS). */
    recipients: z
      .array(
        z
          .string()
          .trim()
          .regex(/^age1[0-9a-z]+$/, `each recipient must be ${RECIPIENT_HINT}`),
      )
      .default([]),
    /**
     * Secret keys to decrypt with (the lines of BACKUP_ENCRYPTION_IDENTITY_FILE). Needed only to
     * verify and restore; a backup host can hold the recipients alone.
     */
    identities: z
      .array(
        z
          .string()
          .trim()
          .regex(/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/, `each identity must be ${IDENTITY_HINT}`),
      )
      .optional(),
  })
  .strict()
  .refine((o) => o.recipients.length > 0 || (o.identities?.length ?? 0) > 0, {
    error: () =>
      `give at least one recipient (${hostHint('age:recipients', 'recipients')}) or one identity (${hostHint('age:identities', 'identities')})`,
  });

export type AgeCipherOptions = z.input<typeof ageCipherOptionsSchema>;

/**
 * Reads the identities of an age identity file (the format `age-keygen` writes: `#` comments,
 * blank lines, one `AGE-SECRET-KEY-1…` per line). Throws CONFIG_INVALID, never quoting the file.
 */
export function parseAgeIdentityFile(text: string, name = 'the identity file'): string[] {
  const identities: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(line)) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `Line ${index + 1} of ${name} is not ${IDENTITY_HINT}`,
        {
          hint: 'Use a file written by `age-keygen -o key.txt`; age plugin identities are not supported.',
        },
      );
    }
    registerSecret(line);
    identities.push(line);
  }
  if (identities.length === 0) {
    throw new LifeboatError('CONFIG_INVALID', `${name} holds no age identity (AGE-SECRET-KEY-1…)`);
  }
  return identities;
}

/** A new X25519 key pair, as `age-keygen` makes: the identity is secret, the recipient public. */
export async function generateAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const age = await loadAge();
  const identity = await age.generateIdentity();
  registerSecret(identity);
  return { identity, recipient: await age.identityToRecipient(identity) };
}

/** Splits a list of recipients given as one setting (commas, spaces or new lines; `#` comments). */
export function parseAgeRecipients(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .join(',')
    .split(/[\s,]+/)
    .filter((r) => r.length > 0);
}

const identityRequired = () =>
  new LifeboatError(
    'IDENTITY_REQUIRED',
    'The archive is encrypted with age and no identity was given to decrypt it',
    {
      hint: hostHint(
        'identity:required',
        'Give the age identity (age-keygen output) matching a recipient.',
      ),
    },
  );

/**
 * An archive cipher that encrypts to age X25519 recipients and decrypts with age identities.
 * Memory stays bounded: the stream is processed in age's 64 KiB chunks.
 */
export function ageCipher(input: AgeCipherOptions) {
  const options = parseOptions(ageCipherOptionsSchema, input, 'age encryption');
  const identities = options.identities ?? [];
  for (const identity of identities) registerSecret(identity);
  for (const [index, recipient] of options.recipients.entries()) {
    if (!isAgeRecipient(recipient)) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `Invalid age encryption options: recipient ${index + 1} ("${recipient}") is not ${RECIPIENT_HINT}`,
      );
    }
  }
  for (const [index, identity] of identities.entries()) {
    if (!isAgeIdentity(identity)) {
      // Never quote an identity, even a broken one.
      throw new LifeboatError(
        'CONFIG_INVALID',
        `Invalid age encryption options: identity ${index + 1} is not ${IDENTITY_HINT}`,
      );
    }
  }
  const explicit = [...new Set(options.recipients)];
  // Without explicit recipients, encrypt to the identities' own public keys (a restore host).
  let derived: Promise<string[]> | undefined;
  const recipients = (): Promise<string[]> => {
    if (explicit.length > 0) return Promise.resolve(explicit);
    derived ??= loadAge().then((age) =>
      Promise.all(identities.map((i) => age.identityToRecipient(i))),
    );
    return derived;
  };

  return {
    id: 'age',
    extension: '.age',
    describe: () =>
      explicit.length > 0
        ? `age, to ${explicit.length} recipient${explicit.length === 1 ? '' : 's'}: ${explicit.join(', ')}`
        : `age, to the public key${identities.length === 1 ? '' : 's'} of the configured identit${identities.length === 1 ? 'y' : 'ies'}`,
    encrypt(plain: Readable): Readable {
      return throughWeb(
        plain,
        async (web) => {
          const encrypter = new (await loadAge()).Encrypter();
          for (const r of await recipients()) encrypter.addRecipient(r);
          return encrypter.encrypt(web);
        },
        (error) =>
          error instanceof LifeboatError
            ? error
            : new LifeboatError(
                'INTERNAL',
                `age encryption failed: ${redact(error instanceof Error ? error.message : String(error))}`,
                {
                  cause: error,
                },
              ),
      );
    },
    decrypt(encrypted: Readable): Readable {
      if (identities.length === 0) {
        encrypted.destroy();
        throw identityRequired();
      }
      let plainBytes = 0;
      return throughWeb(
        encrypted,
        async (web) => {
          const decrypter = new (await loadAge()).Decrypter();
          for (const identity of identities) decrypter.addIdentity(identity);
          return decrypter.decrypt(web);
        },
        (error) =>
          error instanceof LifeboatError
            ? error
            : decryptionError(error, identities.length, plainBytes),
        (chunk) => {
          plainBytes += chunk.length;
        },
      );
    },
    async openRanges(get, storedBytes) {
      if (identities.length === 0) throw identityRequired();
      const { openAgeRanges } = await loadRanges();
      return (await openAgeRanges(get, storedBytes, identities)).get;
    },
  } satisfies ArchiveCipher;
}
