export {
  ARCHIVE_FILE_PATTERN,
  isArchiveKey,
  isLifeboatKey,
} from './archive/layout.js';
export * from './archive/naming.js';
export { createParallelGzip } from './archive/parallel-gzip.js';
export {
  assertSafeEntryPath,
  assertSafeLink,
  decodeSegment,
  encodeSegment,
} from './archive/paths.js';
export { classifyReadError, type ReadEntry, readArchive } from './archive/reader.js';
export { type ArchiveCheck, checkArchive, parseManifest } from './archive/verify.js';
export { type ArchiveWriter, createArchiveWriter } from './archive/writer.js';
export * from './cipher/age.js';
export * from './cipher.js';
export * from './config.js';
export * from './contracts.js';
export { withDeadline, withSignal } from './deadline.js';
export { INDEX_PREFIX } from './engine/archive-index.js';
export { ARCHIVE_CLOCK_SKEW_MS, type ArchiveTrust } from './engine/archive-trust.js';
export type { ArchiveInfo } from './engine/archives.js';
export { type AuditFinding, type AuditOptions, audit, SECRET_ENTRY } from './engine/audit.js';
export type { BackupOptions } from './engine/backup.js';
export type { ArchiveEntries, ListedEntry } from './engine/entries.js';
export { checkHealth } from './engine/health.js';
export {
  HISTORY_PREFIX,
  META_PREFIX,
  type RunRecord,
  readHistory,
  recordRun,
} from './engine/history.js';
export { describeLeftOut, incompleteError } from './engine/incomplete.js';
export { createEngine, type Engine, type ScheduleOptions } from './engine/index.js';
export { acquireLock, type HeldLock, LOCK_KEY } from './engine/lock.js';
export type { NotifyOutcome } from './engine/notify.js';
export type { PruneResult } from './engine/prune.js';
export type {
  EngineRestoreOptions,
  PlannedTarget,
  RestoreResult,
  WrittenSection,
} from './engine/restore.js';
export { planRetention, type RetentionCandidate, type RetentionPlan } from './engine/retention.js';
export type { Schedule } from './engine/schedule.js';
export type { DayTrend, StatusReport } from './engine/status.js';
export type { ChosenVerify, VerifyOptions, VerifyResult } from './engine/verify.js';
export * from './errors.js';
export * from './events.js';
export * from './manifest.js';
export { paceMemory, setMemoryPacer } from './memory-pacer.js';
export {
  type Heartbeat,
  type HeartbeatOptions,
  type HeartbeatSignal,
  heartbeat,
  heartbeatOptionsSchema,
} from './monitoring/heartbeat.js';
export {
  type HttpAttemptOptions,
  type HttpOutcome,
  type HttpRequest,
  probeUrl,
  retryPause,
  sendHttp,
  urlHealth,
} from './monitoring/http.js';
export {
  collectMetrics,
  formatMetrics,
  formatMetricsFailure,
  METRICS_CONTENT_TYPE,
  type MetricsSnapshot,
  metricsHandler,
  RUN_KINDS,
  type RunKind,
  runKind,
} from './monitoring/metrics.js';
export { PID_NAMESPACE, processGone } from './process-alive.js';
export * from './redact.js';
export * from './storage-memory.js';
export { ByteQueue } from './streams/byte-queue.js';
export { abortableSleep, jitteredBackoff } from './timing.js';
export * from './url-secrets.js';
export * from './version.js';
export { NOTIFY_CATEGORIES, notificationCategory, notifyOn } from './wrappers/notify-on.js';
export {
  isRetryable,
  type RetryingStorageOptions,
  retryingStorage,
} from './wrappers/retrying-storage.js';
