export {
  buildCipher,
  buildEngine,
  buildHeartbeat,
  buildNotifiers,
  buildSources,
  buildStorage,
  fromEnv,
  fromFile,
  resolveSettings,
  SETTINGS,
  type Settings,
} from '@lifeboat/preset-env';
export { buildProgram, main } from './main.js';
