import type { Readable } from 'node:stream';
import type { ByteRange } from './contracts.js';

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
  /**
   * Opens a stored archive of `storedBytes` bytes for reads of plaintext ranges through `get`
   * (ranged gets of the stored bytes): only what covers a range is read and decrypted, every
   * piece authenticated. Absent when the cipher cannot; throws IDENTITY_REQUIRED as `decrypt`.
   */
  openRanges?(
    get: (range: ByteRange) => Promise<Readable>,
    storedBytes: number,
  ): Promise<(range: ByteRange) => Promise<Readable>>;
  /** Public description: recipients, never an identity. */
  describe(): string;
}
