export {
  randomStream,
  type StorageHarness,
  type StorageSuiteOptions,
  testStorage,
} from './storage-suite.js';
