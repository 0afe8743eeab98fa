// The rule for an install schema's name: a plain lower-case identifier, so it reads the same quoted or not
// (in psql -v schema=..., in pg_cron commands and in the role names derived from it).
import pg from 'pg';

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** TypeError unless `schema` follows the rule. */
export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`pgcache: schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  }
}

/** The schema, checked and quoted for SQL text: `"pgcache"`. */
export function quotedSchemaName(schema = 'pgcache'): string {
  checkSchemaName(schema);
  return pg.escapeIdentifier(schema);
}
