/**
 * How far past the clock an archive's name may be and still count: hosts' clocks differ a
 * little. A later name (another tool's file, a clock that jumped ahead) is never trusted.
 */
export const ARCHIVE_CLOCK_SKEW_MS = 10 * 60_000;

/** Why an archive file does not count as a backup. */
export interface ArchiveTrust {
  code: 'ARCHIVE_IN_FUTURE' | 'ARCHIVE_NOT_INDEXED';
  message: string;
}

/**
 * Whether a file named like an archive counts as a backup for `latest`, health, status and
 * retention: it must have the index record its backup wrote, and a name no later than the
 * clock allows. Undefined when it counts; otherwise why not.
 */
export function archiveTrust(
  file: string,
  createdAt: Date,
  indexed: boolean,
  now: Date,
): ArchiveTrust | undefined {
  if (createdAt.getTime() > now.getTime() + ARCHIVE_CLOCK_SKEW_MS) {
    return {
      code: 'ARCHIVE_IN_FUTURE',
      message: `${file} is named after ${createdAt.toISOString()}, later than now (${now.toISOString()}): not counted as a backup and never deleted by retention`,
    };
  }
  if (!indexed) {
    return {
      code: 'ARCHIVE_NOT_INDEXED',
      message: `${file} has no Lifeboat index record (another tool's file, or its backup could not write one): not counted as a backup and never deleted by retention`,
    };
  }
  return undefined;
}

/** Counts as a backup. */
export const isCounted = (archive: { untrusted?: ArchiveTrust }) => !archive.untrusted;
