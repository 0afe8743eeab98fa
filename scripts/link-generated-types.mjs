// After `tsc`: point the published declarations at the committed Zapatos schema (an ambient module that
// tsc does not copy), so `import type * as s from 'zapatos/schema'` in dist/ resolves for consumers.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../dist/index.d.ts', import.meta.url);
const reference = '/// <reference path="../src/generated/zapatos/schema.d.ts" />\n';
const text = readFileSync(file, 'utf8');
if (!text.startsWith(reference)) writeFileSync(file, reference + text);
