import { defineConfig } from 'tsup';

// `pnpm build` empties dist first: the two builds run at once, so neither may clean.
export default defineConfig([
  {
    entry: ['src/bin.ts'],
    format: ['esm'],
    // The library's types, with the workspace packages' types inlined: the published package
    // has no @lifeboat/* dependency to find them in.
    dts: { entry: 'src/index.ts', resolve: [/^@lifeboat\//] },
    sourcemap: true,
    target: 'node20',
  },
  {
    // The command with its dependencies bundled: resolving and loading a few hundred modules one
    // by one cost ~40 ms of every run (a third of `lifeboat --version`). Plugins stay separate
    // chunks, loaded only when configured. CommonJS dependencies get a real `require`.
    // The library entry (`import … from '@lifeboat/cli'`) is bundled the same way and shares
    // the chunks: the package has no runtime dependencies, so `npm pack` gives a tarball that
    // installs anywhere without the workspace (packed-install.test.ts).
    entry: { run: 'src/run.ts', index: 'src/index.ts' },
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
