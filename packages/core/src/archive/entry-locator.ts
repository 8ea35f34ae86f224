/**
 * Where an entry sits in the compressed archive, so a reader can start at it: the gzip member
 * holding its first tar byte (members are independent, so inflating can begin there) and the
 * member just past its last byte.
 */
export interface EntryLocation {
  /** Byte offset of the entry's first tar header in the uncompressed tar stream. */
  offset: number;
  /** Tar bytes of the entry: its header(s), data and padding. */
  tarBytes: number;
  /** Compressed byte offset of the gzip member holding the entry's first tar byte. */
  member: number;
  /** Where the entry starts inside that member's inflated bytes. */
  inner: number;
  /** Compressed byte offset just past the member holding the entry's last tar byte. */
  end: number;
}

interface Member {
  inputEnd: number;
  inputStart: number;
  outputStart: number;
  outputEnd: number;
}

interface Open {
  offset: number;
  tarBytes?: number;
  settle: (location: EntryLocation) => void;
}

/**
 * Maps tar offsets to gzip members as the members are written. Entries begin in tar order and
 * before any of their bytes reach the compressor; only the members an unsettled entry may still
 * need are kept (a few, whatever the archive's size).
 */
export function createEntryLocator() {
  const members: Member[] = [];
  const open: Open[] = [];
  let inputPos = 0;
  let outputPos = 0;

  const memberOf = (inputOffset: number) => members.find((m) => m.inputEnd > inputOffset)!;
  const settle = () => {
    for (;;) {
      const entry = open[0];
      if (!entry || entry.tarBytes === undefined) break;
      const last = entry.offset + entry.tarBytes - 1;
      if (inputPos <= last) break;
      const first = memberOf(entry.offset);
      entry.settle({
        offset: entry.offset,
        tarBytes: entry.tarBytes,
        member: first.outputStart,
        inner: entry.offset - first.inputStart,
        end: memberOf(last).outputEnd,
      });
      open.shift();
    }
    const keepFrom = open[0]?.offset ?? inputPos;
    while (members.length > 0 && members[0]!.inputEnd <= keepFrom) members.shift();
  };

  return {
    /** A member was written: `inputBytes` of tar in, `outputBytes` of gzip out. */
    member(inputBytes: number, outputBytes: number) {
      members.push({
        inputStart: inputPos,
        inputEnd: inputPos + inputBytes,
        outputStart: outputPos,
        outputEnd: outputPos + outputBytes,
      });
      inputPos += inputBytes;
      outputPos += outputBytes;
      settle();
    },
    /** An entry begins at this tar offset; `end` is called once its size in the tar is known. */
    begin(offset: number, onLocated: (location: EntryLocation) => void) {
      const entry: Open = { offset, settle: onLocated };
      open.push(entry);
      return {
        end(tarBytes: number) {
          entry.tarBytes = tarBytes;
          settle();
        },
      };
    },
  };
}
