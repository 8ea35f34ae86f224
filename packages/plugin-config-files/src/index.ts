export type { ConfigSummary } from './backup.js';
export { CONFIG_FILES_ERROR_CODES } from './errors.js';
export { type ConfigFilesOptions, configFilesOptionsSchema } from './options.js';
export {
  type ConfigFilesRestoreOptions,
  configFilesRestoreOptionsSchema,
} from './restore-options.js';
export { configFilesSource } from './source.js';

import type { ConfigFilesRestoreOptions } from './restore-options.js';

declare module '@lifeboat/core' {
  /** `engine.restore(ref, { 'config-files': { … } })`: the config-files source's restore options. */
  interface RestoreOptionsBySource {
    'config-files': ConfigFilesRestoreOptions;
  }
}
