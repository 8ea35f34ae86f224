import { defineConfig } from 'tsup';

// `pnpm build` empties dist first: the two builds run at once, so neither may clean.
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/bin.ts'],
    format: ['esm'],
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    target: 'node20',
  },
  {
    // The command with its dependencies bundled: resolving and loading a few hundred modules one
    // by one cost ~40 ms of every run (a third of `lifeboat --version`). Plugins stay separate
    // chunks, loaded only when configured. CommonJS dependencies get a real `require`.
    entry: { run: 'src/run.ts' },
    format: ['esm'],
    outDir: 'dist/bundle',
    sourcemap: true,
    target: 'node20',
    splitting: true,
    noExternal: [/.*/],
    external: ['pg-native'],
    banner: {
      js: "import { createRequire as __lifeboatCreateRequire } from 'node:module'; const require = __lifeboatCreateRequire(import.meta.url);",
    },
  },
]);
