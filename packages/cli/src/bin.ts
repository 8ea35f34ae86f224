#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { memoryLimitAsked, runWithSmallMalloc, smallMallocEnv } from './small-malloc.js';

// V8's young generation grows to 16 MiB (twice over: two semispaces) while the modules load and
// then stays there; kept at its starting 1 MiB, peak RSS is ~25 MiB lower for the same CPU
// (README, Performance). Set before anything is loaded: growth happens during the load.
setFlagsFromString('--semi-space-growth-factor=1');
// A command runs for seconds: V8's optimizing compiler, started at its default budget, spent
// ~100 ms of background CPU on code a backup ran for a few hundred ms (an eighth of a scale-1
// backup's CPU). Four times the budget: optimized later, and less of it; measured on Node 20:
// scale-1 backup -100 ms CPU (main thread +10 ms), scale 10 -130 ms. The flag exists in the V8
// of Node 20-24 (an unknown flag would print an error at every start).
if (Number(process.versions.v8.split('.')[0]) <= 13)
  setFlagsFromString('--interrupt-budget=270336');

// `lifeboat --version` (a container's smoke test, an install check) answers before the bundle
// loads: the version is written in at build time (tsup.config.ts), the same TOOL_VERSION
// commander prints. Everything else goes through the command line parser.
declare const __LIFEBOAT_VERSION__: string;
const only = process.argv.length === 3 ? process.argv[2] : undefined;
if (only === '--version' || only === '-V') {
  process.stdout.write(`${__LIFEBOAT_VERSION__}\n`);
} else if (memoryLimitAsked(process.argv, process.env) && !smallMallocEnv(process.env)) {
  // A memory limit was asked for: the command runs in a child whose C allocator gives freed
  // buffers back (small-malloc.ts); this process only waits for it and passes signals on.
  process.exitCode = await runWithSmallMalloc(process.argv, process.env);
} else {
  // Node 22.1+ keeps the compiled code of the bundle on disk between runs (the start-up cost is
  // mostly compiling it); Node 20 has no such switch and this is skipped.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  // The AWS SDK warns on Node < 22 that its future versions will need Node 22, on standard error
  // at the first S3 call: `--quiet` (cron) would mail it every night. The command bundles its SDK
  // (a new one comes only with a new Lifeboat, whose `engines` says what it runs on), so the
  // warning is about nothing the user can act on here. A user's own setting is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The command runs from a bundle of itself and its dependencies (see tsup.config.ts): resolving
  // and loading a few hundred modules one by one cost ~40 ms of every run. A variable keeps the
  // type checker from looking for the bundle, which exists only after the build.
  const bundle = './bundle/run.js';
  await import(bundle);
}
