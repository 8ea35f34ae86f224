export { fromEnv, fromFile, resolveSettings } from './load-settings.js';
export { buildProgram, main } from './main.js';
export { SETTINGS, type Settings } from './settings.js';
export {
  buildCipher,
  buildEngine,
  buildHeartbeat,
  buildNotifiers,
  buildSources,
  buildStorage,
} from './wiring.js';
