import type { Readable } from 'node:stream';
import type { EntryLocation } from './archive/entry-locator.js';
import type { SourceItem } from './events.js';
import type { Manifest } from './manifest.js';

export type { EntryLocation };

/* ------------------------------------------------------------------ storage */

export interface StoredObject {
  key: string;
  bytes: number;
  modifiedAt: Date;
}

export interface PutOptions {
  signal?: AbortSignal;
  /** Plain metadata that holds no secret (S3 object metadata, for example). */
  metadata?: Record<string, string>;
}

/** Bytes `[start, end)` of an object (`end` exclusive, as `Buffer.subarray`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface GetOptions {
  signal?: AbortSignal;
  /**
   * Only these bytes (a positioned read, an HTTP Range GET). A range reaching past the object's
   * end yields the bytes up to its end, possibly none.
   */
  range?: ByteRange;
}

/**
 * What `stat`, `list` and `delete` take: aborting the signal ends the call with ABORTED (at once
 * when it already is), so a cancelled run does not wait on a slow storage.
 */
export interface StorageCallOptions {
  signal?: AbortSignal;
}

export interface StorageCapabilities {
  /** `freeSpace()` returns a number. */
  freeSpace: boolean;
  /** `put(..., { exclusive })` cannot overwrite, even under a race (used for the lock). */
  exclusiveCreate: boolean;
}

/**
 * A place archives live. Keys are `/`-separated relative paths.
 * `put` is atomic: a reader never sees a half-written object under its final name, and a failed
 * or aborted put leaves nothing under that name. `put` never overwrites an existing key unless
 * `overwrite: true` is passed (history records, the lock).
 */
export interface Storage {
  readonly id: string;
  readonly capabilities: StorageCapabilities;
  /** Where this storage is, for people: no secret in it. */
  describe(): string;
  /**
   * Prepares the storage (create folders, check credentials, clean leftovers of killed runs).
   * `create: false` is for read-only operations (list, status, health): a folder that does not
   * exist is then a STORAGE_NOT_FOUND error naming it, never created.
   */
  connect(options?: { signal?: AbortSignal; create?: boolean }): Promise<void>;
  close(): Promise<void>;
  put(
    key: string,
    body: Readable | Uint8Array,
    options?: PutOptions & { overwrite?: boolean },
  ): Promise<StoredObject>;
  /** Throws NOT_FOUND when the key does not exist. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  /** Throws NOT_FOUND when the key does not exist. */
  stat(key: string, options?: StorageCallOptions): Promise<StoredObject>;
  /** Objects whose key starts with `prefix`, in no particular order. Never lists temporary files. */
  list(prefix?: string, options?: StorageCallOptions): Promise<StoredObject[]>;
  /** Deleting a key that does not exist is not an error. */
  delete(key: string, options?: StorageCallOptions): Promise<void>;
  /** Free bytes where the archives live, when the storage can tell. */
  freeSpace?(): Promise<{ freeBytes: number; totalBytes: number }>;
}

/* ------------------------------------------------------------------ sources */

export type EntryType = 'file' | 'directory' | 'symlink';

/** What a source hands the engine for each archive entry. */
export interface EntryInput {
  /** Path inside the source's section, `/`-separated, no leading slash, no `..`. */
  path: string;
  type: EntryType;
  /** Required for files: the exact number of bytes `body` yields. */
  size?: number;
  /** File contents. A function is called once, when the entry is written. */
  body?: Uint8Array | (() => Readable | Promise<Readable>);
  mode?: number;
  mtime?: Date;
  /** For symlinks: the link target, relative to the link's folder. */
  linkname?: string;
}

export interface EntryRecord {
  /** Full archive path, including the section (`config/.env.production`). */
  path: string;
  type: EntryType;
  size: number;
  sha256?: string;
  mode?: number;
  mtime?: string;
  linkname?: string;
  /** Where the entry starts and ends in the compressed archive (archives since issue 16). */
  location?: EntryLocation;
}

export interface SourceProgress {
  /** What is being worked on: a table (`public.users`) or a file path. */
  item?: string;
  rows?: number;
  /** Bytes the source has written so far, over all its items (cumulative, never per item). */
  bytes: number;
  /** Estimated total bytes of the source, when known; corrected as the source learns more. */
  totalBytes?: number;
}

/** One item of a source's backup done (a table copied): the engine adds the source and phase. */
export type ItemDone = Omit<SourceItem, 'source' | 'phase'>;

/**
 * What a source's backup may do: add entries, tell progress, items done and warnings, leave
 * objects out. Only these, not the engine's whole emitter: a source cannot emit another's events.
 */
export interface BackupContext {
  signal: AbortSignal;
  /** Adds an entry to the archive. Resolves once it is written: await it for backpressure. */
  emit(entry: EntryInput): Promise<EntryRecord>;
  progress(progress: SourceProgress): void;
  /** An item done: emitted as `source:item` with this source's id and phase `backup`. */
  item(done: ItemDone): void;
  warn: Warn;
  /**
   * Whether the setup allows an incomplete backup. Without it a source that cannot keep an
   * object throws `incompleteError` (BACKUP_INCOMPLETE) before it copies anything.
   */
  allowIncomplete: boolean;
  /**
   * Whether the archive is encrypted (a recipient is configured): a source keeps secrets it
   * would otherwise leave out (the postgres source's password hashes) only then.
   */
  encrypted?: boolean;
  /** Records objects the archive does not hold (allowed only with `allowIncomplete`). */
  leaveOut(objects: LeftOutObject[]): void;
}

/** An object a source could not keep: named in the manifest, the result, history and e-mails. */
export interface LeftOutObject {
  kind: string;
  name: string;
  reason: string;
}

/** An entry read back from an archive: consume `stream` fully (or call `skip`) before the next. */
export interface ArchiveEntry extends EntryRecord {
  /** Path inside the section (`.env.production` for `config/.env.production`). */
  relativePath: string;
  stream: Readable;
}

/**
 * Each source's restore options, under its source's id. A source package adds its own by
 * augmenting this interface (as the postgres source does:
 * `declare module '@lifeboat/core' { interface RestoreOptionsBySource { postgres: … } }`), so
 * `engine.restore(ref, { postgres: { … }, 'config-files': { … } })` is typed section by section
 * and no option of one source reaches another.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each source package (declaration merging)
export interface RestoreOptionsBySource {}

/** Restore (and deep verify) options of every source, each under its source's id. */
export type SourceRestoreOptions = {
  [Id in keyof RestoreOptionsBySource]?: RestoreOptionsBySource[Id];
};

/** A source's own restore options as the engine holds them, before the source parses them. */
export type RestoreOptions = object;

/** Where a section would be restored and what that replaces; found before anything is written. */
export interface RestoreTarget {
  /** For people, without secrets: `postgres://app@db:5432/app`, `/etc/app (configured places)`. */
  target: string;
  /** The configured, live place itself. */
  inPlace: boolean;
  /** What the restore drops or replaces that exists now; non-empty means it must be confirmed. */
  replaces: string[];
  /** What a person types to confirm that (the database's name). */
  confirmText?: string;
}

/** What `checkRestore` gets: everything but the entries, which are read only after every check. */
export type RestoreCheckContext<Options extends object = RestoreOptions> = Omit<
  RestoreContext<Options>,
  'entries' | keyof RestoreReport
>;

/** A warning of a source, emitted as a `warning` event. */
export type Warn = (code: string, message: string, details?: Record<string, unknown>) => void;

/** What a restore tells while it runs: the part of RestoreContext a source hands its helpers. */
export type RestoreReport = Pick<RestoreContext, 'progress' | 'item' | 'warn'>;

/**
 * What a source's restore (or deep verify) gets. `options` are its own, from under its id in the
 * caller's options (`{}` when none were given); they come from outside the type system (a script,
 * the CLI), so a source validates them.
 */
export interface RestoreContext<Options extends object = RestoreOptions> {
  signal: AbortSignal;
  /** The summary this source wrote into the manifest at backup time. */
  summary: Record<string, unknown>;
  manifest: Manifest;
  /** This source's entries, in archive order, already checked against the manifest. */
  entries: AsyncIterable<ArchiveEntry>;
  options: Options;
  /**
   * What is being restored: emitted as `restore:progress` with this source's id. Only these
   * three, not the engine's whole emitter: a source cannot emit another's events.
   */
  progress(progress: SourceProgress): void;
  /** An item restored: emitted as `source:item` with this source's id and phase `restore`. */
  item(done: ItemDone): void;
  warn: Warn;
}

export interface HealthCheck {
  name: string;
  status: 'ok' | 'warning' | 'critical';
  message: string;
  details?: Record<string, unknown>;
}

/**
 * A source of backups. `Summary` is what its backup returns and the manifest keeps (its own typed
 * shape; a restore gets it back from disk as plain JSON, to be parsed by the source). `Options` are
 * its restore options (given under its id: see RestoreOptionsBySource).
 */
export interface Source<
  Summary extends object = Record<string, unknown>,
  Options extends object = RestoreOptions,
> {
  readonly id: string;
  /** Top-level archive folder this source owns: `database`, `config`. */
  readonly section: string;
  describe(): string;
  connect(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  /** Writes entries through `ctx.emit`; returns the summary stored in the manifest (no secrets). */
  backup(ctx: BackupContext): Promise<Summary>;
  restore(ctx: RestoreContext<Options>): Promise<Record<string, unknown>>;
  /**
   * The entries (paths inside the section) a restore with these options reads; undefined: all
   * of them. The engine then reads only the gzip members that hold them.
   */
  restoreEntries?(summary: Record<string, unknown>, options: Options): string[] | undefined;
  /**
   * Whether these options restore only part of this section (some tables): the engine then
   * restores this section alone. Returns what asks for it (`--tables and --as-suffix restore
   * database tables`), for the error when another section is asked for; undefined: a whole one.
   */
  partialRestore?(options: Options): string | undefined;
  /**
   * Checks every precondition of a restore (target named, empty or `clean`, files absent or
   * `overwrite`, tables present) without writing anything; throws when one fails. The engine
   * calls it for every section before the first entry of any section is written.
   */
  checkRestore?(ctx: RestoreCheckContext<Options>): Promise<RestoreTarget>;
  /**
   * Work a restore may start while the engine still hashes the stored archive, once
   * `checkRestore` found nothing to replace (postgres: `CREATE DATABASE` of a new target). It
   * must not use the archive's content but the summary's, and must be undoable: the engine calls
   * the function returned when the restore stops before `restore` starts (a failed check, another
   * section's check), and only then; from `restore` on, what was prepared is the restore's own
   * (its failure takes it back as any other). Undefined: nothing was prepared.
   */
  prepareRestore?(ctx: RestoreCheckContext<Options>): Promise<(() => Promise<void>) | undefined>;
  /** Deep verification: restore into scratch space and compare with the summary. */
  verifyDeep?(ctx: RestoreContext<Options>): Promise<VerifyProblem[]>;
  /** Health checks of what this source reads (database reachable, files present). */
  health?(): Promise<HealthCheck[]>;
  /**
   * The name its health check has whatever the outcome (`database`): also when getting ready
   * or the check itself throws, so monitoring keys on one name. Default: `id`.
   */
  readonly healthName?: string;
  /** Lines for BACKUP_INFO.txt: how to restore this section by hand. */
  manualRestoreSteps?(summary: Record<string, unknown>): string[];
  /**
   * What the backup's result and BACKUP_INFO.txt say of this source, read from its own summary
   * and entries: the engine knows no source's summary shape.
   */
  report?(summary: Record<string, unknown>, entries: readonly EntryRecord[]): SourceReport;
}

/** What a source's backup amounts to, for the result, notifications and BACKUP_INFO.txt. */
export interface SourceReport {
  /** One line per item for BACKUP_INFO.txt's contents (`public.users: 12 rows`, a file path). */
  lines?: string[];
  /** Tables and their rows (database sources): the result's `tables`. */
  tables?: { name: string; rows: number; bytes?: number }[];
  /** Files kept (file sources): added up in the result's `files`. */
  files?: number;
  /**
   * What the backup was told to take when not everything, one rule a line (`include schema
   * app`); absent: all of it. The result, the run's record, health and verify repeat it.
   */
  scope?: string[];
}

/** A source of any summary and options shape, as the engine holds them. */
export type AnySource = Source<object, object>;

export interface VerifyProblem {
  code: string;
  message: string;
  path?: string;
}

/* ---------------------------------------------------------------- notifiers */

export type NotificationEvent =
  | { kind: 'backup:succeeded'; result: BackupResult; attachment?: () => Promise<Readable> }
  | {
      kind: 'backup:failed';
      error: { code: string; message: string; hint: string };
      at: Date;
      storage: string;
    }
  | { kind: 'health:alert'; report: HealthReport }
  | { kind: 'test'; at: Date };

/** What a notification reports, for choosing where it goes (NOTIFY_ON). */
export type NotifyCategory = 'failure' | 'warning' | 'success';

export interface Notifier {
  readonly id: string;
  describe(): string;
  /** Whether this notifier wants the event; absent means every event (see `notifyOn`). */
  accepts?(event: NotificationEvent): boolean;
  notify(event: NotificationEvent, options?: { signal?: AbortSignal }): Promise<void>;
  health?(): Promise<HealthCheck[]>;
  /** The name of its health check whatever the outcome (`mail`). Default: `id`. */
  readonly healthName?: string;
  close?(): Promise<void>;
}

/* ------------------------------------------------------------------ results */

export interface BackupResult {
  id: string;
  file: string;
  bytes: number;
  sha256: string;
  createdAt: string;
  durationMs: number;
  storage: string;
  encrypted: boolean;
  /** `bytes`: the table's data in the archive, uncompressed, when the source tells. */
  tables: { name: string; rows: number; bytes?: number }[];
  files: number;
  warnings: { code: string; message: string }[];
  /** What the archive lacks (a backup allowed to be incomplete); empty for a complete one. */
  incomplete: (LeftOutObject & { source: string })[];
  /** The rules that chose part of a source (SourceReport.scope); absent: everything. */
  scope?: string[];
  pruned: string[];
  notifications: { notifier: string; ok: boolean; error?: string }[];
}

export interface HealthReport {
  status: 'OK' | 'WARNING' | 'CRITICAL';
  checkedAt: string;
  checks: HealthCheck[];
}
