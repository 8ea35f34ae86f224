import { EventEmitter } from 'eventemitter3';
import type { BackupResult, EntryRecord, HealthReport, SourceProgress } from './contracts.js';
import type { PlannedTarget } from './engine/restore.js';

/**
 * One item of a source done, whatever the source: a table copied or restored, a file restored.
 * `kind` and the optional fields are the source's (`table` with rows and bytes, `file` with the
 * place it went to); hosts render what they know and log the rest as it is.
 */
export interface SourceItem {
  source: string;
  phase: 'backup' | 'restore';
  /** `table`, `file`, or what a source calls its items. */
  kind: string;
  /** `public.users`, `config/.env.production`. */
  name: string;
  rows?: number;
  /** Bytes of the item's data as archived (uncompressed). */
  bytes?: number;
  durationMs?: number;
  /** Where a restored item went, and where the one it replaced was kept. */
  target?: string;
  backup?: string;
}

export interface ErrorSummary {
  code: string;
  message: string;
  hint: string;
}

/** Every event the engine emits. Hosts subscribe to log, meter or render progress. */
export interface LifeboatEventMap {
  'backup:started': { id: string; file: string; sources: string[]; storage: string };
  'source:started': { source: string };
  'source:progress': { source: string } & SourceProgress;
  'source:done': { source: string; durationMs: number };
  'entry:done': EntryRecord;
  'source:item': SourceItem;
  'backup:succeeded': BackupResult;
  'backup:failed': { id?: string; error: ErrorSummary; durationMs: number };
  /** `chosen`: only chosen entries are checked (`tables`, `only`), not the whole archive. */
  'verify:started': { id: string; deep: boolean; chosen?: boolean };
  'verify:progress': { id: string; path: string; bytes: number; totalBytes?: number };
  'verify:succeeded': { id: string; deep: boolean; durationMs: number; chosen?: boolean };
  'verify:failed': {
    id: string;
    deep: boolean;
    chosen?: boolean;
    problems: { code: string; message: string; path?: string }[];
  };
  /** Where each section will be restored: every precondition held, nothing written yet. */
  'restore:planned': { id: string; targets: PlannedTarget[] };
  /** The archive was checked before anything was written: by its index, or by a full read. */
  'restore:checked': {
    id: string;
    /**
     * `ranges`: only the members holding the wanted entries were read (each entry hashed);
     * `index`: the stored sha256 matched; `full`: every entry was read and hashed first.
     */
    method: 'ranges' | 'index' | 'full';
    durationMs: number;
  };
  'restore:started': { id: string; sections: string[] };
  'restore:progress': {
    source: string;
    item?: string;
    rows?: number;
    bytes: number;
    totalBytes?: number;
  };
  'restore:succeeded': { id: string; durationMs: number };
  'restore:failed': { id: string; error: ErrorSummary };
  'prune:planned': {
    keep: { id: string; reasons: string[] }[];
    remove: { id: string; reason: string }[];
  };
  'prune:deleted': { id: string };
  'notify:sent': { notifier: string; kind: string };
  'notify:failed': { notifier: string; kind: string; error: ErrorSummary };
  'health:alert': HealthReport;
  'lock:waiting': { owner: string; since: string };
  warning: { code: string; message: string; details?: Record<string, unknown> };
}

export type LifeboatEventName = keyof LifeboatEventMap;

type Listeners = { [K in LifeboatEventName]: (payload: LifeboatEventMap[K]) => void };

export type LifeboatEmitter = EventEmitter<Listeners>;

export function createEmitter(): LifeboatEmitter {
  return new EventEmitter<Listeners>();
}
