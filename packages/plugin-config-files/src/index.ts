export type { ConfigSummary } from './backup.js';
export { CONFIG_FILES_ERROR_CODES } from './errors.js';
export { type ConfigFilesOptions, configFilesOptionsSchema } from './options.js';
export { configFilesSource } from './source.js';
