export { type LocalStorageOptions, localStorageOptionsSchema } from './options.js';
export { localStorage } from './storage.js';
export { TEMP_MARKER } from './temp-files.js';
