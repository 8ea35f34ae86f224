import { LifeboatError } from '@lifeboat/core';

/** Maps a Node file-system error to a LifeboatError that says what to do. */
export function fsError(error: unknown, action: string, path: string): LifeboatError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason = (error as Error)?.message ?? String(error);
  switch (code) {
    case 'ENOENT':
      return new LifeboatError('NOT_FOUND', `Cannot ${action} "${path}": it does not exist`, {
        cause: error,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new LifeboatError('STORAGE_FULL', `Cannot ${action} "${path}": the disk is full`, {
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new LifeboatError(
        'PERMISSION_DENIED',
        `Cannot ${action} "${path}": ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`,
        {
          cause: error,
        },
      );
    case 'EEXIST':
      return new LifeboatError('ALREADY_EXISTS', `Cannot ${action} "${path}": it exists`, {
        cause: error,
      });
    case 'EMFILE':
    case 'ENFILE':
    case 'EBUSY':
    case 'EAGAIN':
      return new LifeboatError('STORAGE_FAILED', `Cannot ${action} "${path}": ${reason}`, {
        cause: error,
        retryable: true,
      });
    default:
      return new LifeboatError('STORAGE_FAILED', `Cannot ${action} "${path}": ${reason}`, {
        cause: error,
      });
  }
}
