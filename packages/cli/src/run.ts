import { main } from './main.js';

// A reader that goes away (`lifeboat list | head -1`) must not crash the command with a stack
// trace, let alone stop a backup halfway: what it would still have printed is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lifeboat: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
