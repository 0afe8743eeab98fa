// The committed types must be exactly what the current sql/ generates (run `npm run gen:types`): the Zapatos
// schema (a dev-time artefact) and the plain row-type module derived from it, which the package ships.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { committedTypesDir, generateTypes, ROWS_FILE, rowTypesFromZapatos, SCHEMA_FILE } from '../scripts/lib/types.js';

const outDir = mkdtempSync(join(tmpdir(), 'pgcache-types-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('src/generated/zapatos/schema.d.ts and src/generated/rows.ts match the SQL (npm run gen:types to refresh)', async () => {
  const fresh = await generateTypes(outDir);
  const committed = readFileSync(join(committedTypesDir, SCHEMA_FILE), 'utf8');
  expect(committed).toBe(fresh);
  expect(readFileSync(join(committedTypesDir, ROWS_FILE), 'utf8')).toBe(readFileSync(join(outDir, ROWS_FILE), 'utf8'));
});

it('rows.ts is derived from the committed Zapatos schema', () => {
  const schema = readFileSync(join(committedTypesDir, SCHEMA_FILE), 'utf8');
  const rows = rowTypesFromZapatos(schema);
  expect(readFileSync(join(committedTypesDir, ROWS_FILE), 'utf8')).toBe(rows);
  expect(rows).not.toMatch(/^import|\bdb\.\w|\bc\.\w/m);
  expect(rows).toContain('export interface EntriesRow {');
});
