// The library's types inline the workspace packages' (tsup dts `resolve`), so there is no
// '@lifeboat/core' module for the plugins' error-code augmentations to extend: they are dropped
// (a consumer's type check would otherwise stop at "Invalid module name in augmentation").
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../dist/index.d.ts', import.meta.url);
const text = readFileSync(file, 'utf8');
const stripped = text.replace(/declare module '@lifeboat\/[^']+' \{\n(?: {4}[^\n]*\n)*\}\n/g, '');
writeFileSync(file, stripped);
