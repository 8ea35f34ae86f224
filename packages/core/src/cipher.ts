import type { Readable } from 'node:stream';

/**
 * Encrypts the whole archive stream on its way to the storage and decrypts it on the way back.
 * `extension` is appended to the archive name (`.age`).
 */
export interface ArchiveCipher {
  readonly id: string;
  readonly extension: string;
  encrypt(input: Readable): Readable;
  /** Throws IDENTITY_REQUIRED when it holds no key to decrypt with. */
  decrypt(input: Readable): Readable;
  /** Public description: recipients, never an identity. */
  describe(): string;
}
