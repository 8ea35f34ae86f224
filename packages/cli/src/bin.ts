#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// V8's young generation grows to 16 MiB (twice over: two semispaces) while the modules load and
// then stays there; kept at its starting 1 MiB, peak RSS is ~25 MiB lower for the same CPU
// (README, Performance). Set before anything is loaded: growth happens during the load.
setFlagsFromString('--semi-space-growth-factor=1');

// The command runs from a bundle of itself and its dependencies (see tsup.config.ts): resolving
// and loading a few hundred modules one by one cost ~40 ms of every run. A variable keeps the
// type checker from looking for the bundle, which exists only after the build.
const bundle = './bundle/run.js';
await import(bundle);
