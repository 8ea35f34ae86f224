import type { ArchiveCipher } from '../cipher.js';
import type { ResolvedEngineConfig } from '../config.js';
import type { AnySource, Notifier, Storage } from '../contracts.js';
import type { LifeboatEmitter } from '../events.js';

/** What every engine operation shares. */
export interface EngineContext {
  config: ResolvedEngineConfig;
  storage: Storage;
  sources: AnySource[];
  notifiers: Notifier[];
  cipher: ArchiveCipher | undefined;
  events: LifeboatEmitter;
  now: () => Date;
  /**
   * Connects the storage once. `create: false` for operations that only read (list, status,
   * health): a storage folder that does not exist is then an error, not created.
   */
  ready(signal?: AbortSignal, options?: { create?: boolean }): Promise<void>;
  /** Connects a source once. */
  sourceReady(source: AnySource, signal?: AbortSignal): Promise<void>;
}

export const errorSummary = (e: { code?: string; message: string; hint?: string }) => ({
  code: e.code ?? 'INTERNAL',
  message: e.message,
  hint: e.hint ?? '',
});
