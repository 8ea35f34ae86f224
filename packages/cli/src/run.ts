import { main } from './main.js';

// A reader that goes away (`lifeboat list | head -1`) must not crash the command with a stack
// trace, let alone stop a backup halfway: what it would still have printed is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

/**
 * The answer is out: a storage call that never returns (a hung mount, an endpoint that accepts
 * and never answers) must not keep the process alive for minutes after it. The timer does not
 * hold an idle process, so a normal run still ends as soon as its output is flushed.
 */
const exitSoon = () => setTimeout(() => process.exit(), 5000).unref();

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    exitSoon();
  },
  (error: unknown) => {
    process.stderr.write(`lifeboat: ${(error as Error).message}\n`);
    process.exitCode = 1;
    exitSoon();
  },
);
