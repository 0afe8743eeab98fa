// The committed Zapatos schema must be exactly what the current sql/ generates (run `npm run gen:types`).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { committedTypesDir, generateTypes, SCHEMA_FILE } from '../scripts/lib/types.js';

const outDir = mkdtempSync(join(tmpdir(), 'pgcache-types-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('src/generated/zapatos/schema.d.ts matches the SQL (npm run gen:types to refresh)', async () => {
  const fresh = await generateTypes(outDir);
  const committed = readFileSync(join(committedTypesDir, SCHEMA_FILE), 'utf8');
  expect(committed).toBe(fresh);
});
