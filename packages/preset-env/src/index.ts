export { ENV_ERROR_HINTS } from './error-hints.js';
export {
  fromEnv,
  fromFile,
  type ResolveOptions,
  resolvePaths,
  resolveSettings,
  type SettingLabels,
} from './load-settings.js';
export { type MemoryPlan, memoryPlan, parseSize } from './memory-plan.js';
export {
  isSecretSetting,
  SETTINGS,
  type SettingKey,
  type Settings,
  settingKeys,
} from './settings.js';
export {
  buildCipher,
  buildEngine,
  buildHeartbeat,
  buildNotifiers,
  buildSources,
  buildStorage,
  hasConfigFiles,
  hasDatabase,
  monitoringEndpoints,
  type WiringOptions,
} from './wiring.js';
