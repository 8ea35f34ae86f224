import { defineErrorCodes } from '@lifeboat/core';

/** The config-files source's own error codes, merged into the one catalogue. */
export const CONFIG_FILES_ERROR_CODES = defineErrorCodes({
  FILE_MISSING: {
    message: 'A configured file does not exist',
    hint: 'Create it, fix the path, or mark it optional.',
  },
  FILE_EXISTS: {
    message: 'The target file exists',
    hint: 'Pass overwrite (keeps a .bak copy) or choose another directory.',
  },
});

type ConfigFilesErrorCodes = typeof CONFIG_FILES_ERROR_CODES;
declare module '@lifeboat/core' {
  interface PluginErrorCodes extends ConfigFilesErrorCodes {}
}
