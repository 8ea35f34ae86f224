export {
  type FaultOptions,
  type FaultyStorage,
  faultyStorage,
  type StorageOp,
} from '../wrappers/faulty-storage.js';
export { countingStorage, type ReadCounts } from './counting-storage.js';
export { putIndexedArchive } from './indexed-archive.js';
export {
  type NotifierHarness,
  type NotifierSuiteOptions,
  sampleBackupResult,
  sampleNotificationEvents,
  testNotifier,
} from './notifier-suite.js';
export { rejectionOf } from './rejection.js';
export { type SourceHarness, type SourceSuiteOptions, testSource } from './source-suite.js';
export {
  randomStream,
  type StorageHarness,
  type StorageSuiteOptions,
  testStorage,
} from './storage-suite.js';
