#!/usr/bin/env node
// The command runs from a bundle of itself and its dependencies (see tsup.config.ts): resolving
// and loading a few hundred modules one by one cost ~40 ms of every run. A variable keeps the
// type checker from looking for the bundle, which exists only after the build.
const bundle = './bundle/run.js';
await import(bundle);

export {};
