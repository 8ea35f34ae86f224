import { main } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lifeboat: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
