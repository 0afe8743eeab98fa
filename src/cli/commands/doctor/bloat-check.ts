// Bloat: dead rows in the cache tables, and whether autovacuum can remove them.
import pg from 'pg';
import { quotedSchema } from '../../connection.js';
import { formatCount, toNumber } from '../../format.js';
import type { Check, DoctorContext, DoctorOptions } from './check.js';

export function bloatCheckOf({ client, options, facts }: DoctorContext): Promise<Check> {
  return bloatCheck(client, options, facts.autovacuum, facts.installed);
}

/** Dead rows in the cache partitions: many dead rows mean autovacuum is off, blocked or far behind. */
async function bloatCheck(
  client: pg.ClientBase,
  options: DoctorOptions,
  autovacuum: boolean,
  installed: boolean,
): Promise<Check> {
  if (!installed) return { name: 'bloat', status: 'skip', summary: 'pgcache is not installed' };
  const ratio = Number(options.bloatRatio);
  const minDead = Number(options.bloatMinDead);
  // The tables that hold rows: a type's own table, or each of its leaves when it is hash-partitioned.
  const { rows } = await client.query(
    `SELECT t.name, leaf.relname AS table_name, ln.nspname AS table_schema,
            coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_dead_tup, 0) AS dead,
            coalesce((SELECT option_value FROM pg_options_to_table(leaf.reloptions)
                       WHERE option_name = 'autovacuum_enabled'), 'on') AS table_autovacuum
       FROM ${quotedSchema(options)}.cache_types t
       JOIN pg_class c ON c.relname = t.table_name AND c.relnamespace = $1::regnamespace
       CROSS JOIN LATERAL (SELECT c.oid WHERE c.relkind = 'r'
                           UNION ALL
                           SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = c.oid AND c.relkind = 'p') l(oid)
       JOIN pg_class leaf ON leaf.oid = l.oid
       JOIN pg_namespace ln ON ln.oid = leaf.relnamespace
       LEFT JOIN pg_stat_user_tables s ON s.relid = leaf.oid
      ORDER BY t.name, leaf.relname`,
    [pg.escapeIdentifier(options.schema)],
  );
  const bloated = rows
    .map((r) => ({ ...r, live: toNumber(r.live) ?? 0, dead: toNumber(r.dead) ?? 0 }))
    .filter((r) => r.dead >= minDead && r.dead / (r.live + r.dead) >= ratio);
  if (bloated.length === 0) {
    if (!autovacuum) {
      return {
        name: 'bloat',
        status: 'fail',
        summary: 'autovacuum is off: dead rows from expiry and eviction will pile up',
        fix: 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();',
      };
    }
    return {
      name: 'bloat',
      status: 'ok',
      summary: `no cache table has ${formatCount(minDead)}+ dead rows making up ${Math.round(ratio * 100)}%+ of it`,
    };
  }
  const list = bloated
    .map(
      (r) =>
        `${r.table_name}: ${formatCount(r.dead)} dead / ${formatCount(r.live)} live (${Math.round((100 * r.dead) / (r.live + r.dead))}%)` +
        `${r.table_autovacuum === 'off' || r.table_autovacuum === 'false' ? ', autovacuum disabled on the table' : ''}`,
    )
    .join('; ');
  return {
    name: 'bloat',
    status: 'fail',
    summary: list,
    fix:
      `${bloated.map((r) => `VACUUM (ANALYZE) ${pg.escapeIdentifier(r.table_schema)}.${pg.escapeIdentifier(r.table_name)};`).join(' ')}\n` +
      (autovacuum
        ? 'then find what keeps autovacuum behind: long transactions (pg_stat_activity), autovacuum_enabled = off on the table, too few autovacuum workers'
        : 'and turn autovacuum back on: ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'),
  };
}
