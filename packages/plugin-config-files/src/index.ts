export type { ConfigSummary } from './backup.js';
export { type ConfigFilesOptions, configFilesOptionsSchema } from './options.js';
export { configFilesSource } from './source.js';
