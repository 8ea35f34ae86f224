import { readFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { TOOL_VERSION } from '../core/src/version.js';

/**
 * pg asks whether it runs on Cloudflare Workers by constructing a `Response` when it loads, and on
 * Node 20 (no `navigator`) that loads Node's bundled undici with http2, dns and the web streams:
 * ~9 MiB of memory in every run for a fetch nobody makes. The bundled copy answers no (the
 * command runs on Node only); the test below checks the probe is still there to replace.
 */
const pgNodeOnly = {
  name: 'pg-node-only',
  setup(build: { onLoad: (o: { filter: RegExp }, f: (a: { path: string }) => unknown) => void }) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const probe = 'function isCloudflareRuntime() {';
      if (!source.includes(probe)) throw new Error(`pg-node-only: no ${probe} in ${args.path}`);
      return {
        contents: source.replace(probe, `${probe}\n  return false;`),
        loader: 'js',
      };
    });
  },
};

/**
 * zod's `z.locales` namespace holds its error messages in ~50 languages (~400 KB of the bundle),
 * and every run parsed them although Lifeboat shows English only (zod registers `en` itself, from
 * classic/schemas.js). The bundled namespace keeps `en` alone: less to compile at every start
 * (start-up.test.ts checks the bundle holds no other locale).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build: { onLoad: (o: { filter: RegExp }, f: (a: { path: string }) => unknown) => void }) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

// `pnpm build` empties dist first: the two builds run at once, so neither may clean.
export default defineConfig([
  {
    entry: ['src/bin.ts'],
    format: ['esm'],
    // `lifeboat --version` answers from bin.js alone (src/bin.ts).
    define: { __LIFEBOAT_VERSION__: JSON.stringify(TOOL_VERSION) },
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
    esbuildPlugins: [pgNodeOnly, zodEnglishOnly],
    banner: {
      js: "import { createRequire as __lifeboatCreateRequire } from 'node:module'; const require = __lifeboatCreateRequire(import.meta.url);",
    },
  },
]);
