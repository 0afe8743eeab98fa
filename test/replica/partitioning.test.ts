// Hash sub-partitioning of a cache type's table (sql/core/18_partitioning.sql): the type's partition of entries
// becomes HASH(key)-partitioned into N leaves, every cache function keeps working, a key lookup reads one leaf,
// and the leaves are built exactly like a table made by cache_create_type().
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import { sqlState, useDatabase } from '../helpers/db.js';

const db = useDatabase();
const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const one = async (sql: string, params: unknown[] = []) => (await q(sql, params))[0];

async function createType(name: string, kind = 'jsonb', extra = ''): Promise<void> {
  await q(`SELECT pgcache.cache_create_type($1, $2${extra})`, [name, kind]);
}
const fill = (type: string, n: number, prefix = 'k') =>
  q(`SELECT pgcache.cache_set($1, $2 || i, jsonb_build_object('i', i)) FROM generate_series(1, $3::int) i`, [
    type,
    prefix,
    n,
  ]);
const partitions = (type: string) =>
  q(
    `SELECT table_name, modulus, remainder, unlogged FROM pgcache.cache_partitions WHERE cache_type = $1 ORDER BY remainder NULLS FIRST`,
    [type],
  );
/** Rows per leaf of a type, read from the leaves themselves. */
async function rowsPerLeaf(type: string): Promise<number[]> {
  const leaves = await partitions(type);
  const counts: number[] = [];
  for (const leaf of leaves) {
    counts.push((await one(`SELECT count(*)::int AS n FROM pgcache.${quote(leaf.table_name)}`)).n);
  }
  return counts;
}
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Storage options, persistence, index definitions and checks of a table, with its own name taken out. */
async function shape(table: string): Promise<Record<string, unknown>> {
  const rel = `pgcache.${quote(table)}`;
  const row = await one(
    `SELECT c.reloptions, c.relpersistence,
            (SELECT array_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', 'INDEX \\1') ORDER BY 1)
               FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
            (SELECT array_agg(pg_get_constraintdef(k.oid) ORDER BY 1) FROM pg_constraint k
              WHERE k.conrelid = c.oid AND k.contype = 'c') AS checks,
            (SELECT t.reloptions FROM pg_class t WHERE t.oid = c.reltoastrelid) AS toast_options
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [rel],
  );
  return row;
}

describe('cache_hash_partition_type', () => {
  it('splits a type into N hash partitions and keeps every entry', async () => {
    await createType('hp_split');
    await fill('hp_split', 200);
    expect(Number((await one(`SELECT pgcache.cache_hash_partition_type('hp_split', 4) AS n`)).n)).toBe(200);
    expect(await partitions('hp_split')).toEqual(
      [0, 1, 2, 3].map((r) => ({ table_name: `cache_hp_split$${r}`, modulus: 4, remainder: r, unlogged: false })),
    );
    const counts = await rowsPerLeaf('hp_split');
    expect(counts.reduce((a, b) => a + b)).toBe(200);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    const hits = await one(
      `SELECT count(*)::int AS n FROM generate_series(1, 200) i WHERE pgcache.cache_get('hp_split', 'k' || i) = jsonb_build_object('i', i)`,
    );
    expect(hits.n).toBe(200);
  });

  it('changes the number of partitions, and goes back to one plain table', async () => {
    await createType('hp_resize', 'text');
    await q(`SELECT pgcache.cache_set('hp_resize', 'k' || i, 'v' || i) FROM generate_series(1, 50) i`);
    await one(`SELECT pgcache.cache_hash_partition_type('hp_resize', 4)`);
    expect(Number((await one(`SELECT pgcache.cache_hash_partition_type('hp_resize', 8) AS n`)).n)).toBe(50);
    expect((await rowsPerLeaf('hp_resize')).length).toBe(8);
    expect(Number((await one(`SELECT pgcache.cache_hash_partition_type('hp_resize', 1) AS n`)).n)).toBe(50);
    expect(await partitions('hp_resize')).toEqual([
      { table_name: 'cache_hp_resize', modulus: null, remainder: null, unlogged: false },
    ]);
    expect((await one(`SELECT pgcache.cache_get_text('hp_resize', 'k7') AS v`)).v).toBe('v7');
    // Nothing of the old tables is left behind.
    expect(await q(`SELECT relname FROM pg_class WHERE relname LIKE 'pgcache$old$%'`)).toEqual([]);
  });

  it('does nothing when the type already has that many partitions', async () => {
    await createType('hp_noop');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_noop', 2)`);
    const oids = async () =>
      (await q(`SELECT array_agg(relid ORDER BY relid)::text AS o FROM pg_partition_tree('pgcache.cache_hp_noop')`))[0]
        .o;
    const before = await oids();
    expect(Number((await one(`SELECT pgcache.cache_hash_partition_type('hp_noop', 2) AS n`)).n)).toBe(0);
    expect(await oids()).toBe(before);
    await createType('hp_plain');
    expect(Number((await one(`SELECT pgcache.cache_hash_partition_type('hp_plain', 1) AS n`)).n)).toBe(0);
  });

  it('drops the entries instead of copying them with keep_entries => false', async () => {
    await createType('hp_drop');
    await fill('hp_drop', 30);
    const n = await one(`SELECT pgcache.cache_hash_partition_type('hp_drop', 4, p_keep_entries => false) AS n`);
    expect(Number(n.n)).toBe(0);
    expect(
      (
        await one(
          `SELECT count(*)::int AS n FROM pgcache.entries e JOIN pgcache.cache_types t ON t.id = e.type_id WHERE t.name = 'hp_drop'`,
        )
      ).n,
    ).toBe(0);
    expect(await rowsPerLeaf('hp_drop')).toEqual([0, 0, 0, 0]);
  });

  it('rejects bad arguments with the package SQLSTATEs', async () => {
    await createType('hp_args');
    for (const n of ['0', '257', 'NULL']) {
      expect(await sqlState(q(`SELECT pgcache.cache_hash_partition_type('hp_args', ${n})`))).toBe('PC010');
    }
    expect(await sqlState(q(`SELECT pgcache.cache_hash_partition_type('hp_args', 2, NULL)`))).toBe('PC010');
    expect(await sqlState(q(`SELECT pgcache.cache_hash_partition_type('no_such_type', 2)`))).toBe('PC001');
    // Nothing changed.
    expect((await partitions('hp_args')).length).toBe(1);
  });
});

describe('a hash-partitioned type', () => {
  it('is built like a table of cache_create_type: leaves and the plain table back', async () => {
    await createType('hp_reference', 'bytea');
    await createType('hp_shape', 'bytea');
    const reference = await shape('cache_hp_reference');
    expect(reference.reloptions).toContain('fillfactor=75');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_shape', 3)`);
    for (const r of [0, 1, 2]) expect(await shape(`cache_hp_shape$${r}`)).toEqual(reference);
    await one(`SELECT pgcache.cache_hash_partition_type('hp_shape', 1)`);
    expect(await shape('cache_hp_shape')).toEqual(reference);
  });

  it('keeps an unlogged type unlogged, leaf by leaf', async () => {
    await createType('hp_unlogged', 'jsonb', ', p_unlogged => true');
    const reference = await shape('cache_hp_unlogged');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_unlogged', 2)`);
    expect((await partitions('hp_unlogged')).map((p) => p.unlogged)).toEqual([true, true]);
    expect(await shape('cache_hp_unlogged$1')).toEqual(reference);
  });

  it('serves every cache function unchanged', async () => {
    await createType('hp_ops', 'jsonb', `, p_max_entries => 40, p_eviction_policy => 'fifo'`);
    await one(`SELECT pgcache.cache_hash_partition_type('hp_ops', 4)`);
    await fill('hp_ops', 60, 'user:');
    await fill('hp_ops', 10, 'order:');
    expect((await one(`SELECT pgcache.cache_get('hp_ops', 'user:5') AS v`)).v).toEqual({ i: 5 });
    expect((await one(`SELECT pgcache.cache_get('hp_ops', 'user:nope') AS v`)).v).toBeNull();
    expect((await q(`SELECT key FROM pgcache.cache_get_many('hp_ops', ARRAY['user:1', 'order:2', 'x'])`)).length).toBe(
      2,
    );
    expect((await q(`SELECT key FROM pgcache.cache_peek('hp_ops', 'order:3')`)).map((r) => r.key)).toEqual(['order:3']);
    // Key order across leaves, as on one table.
    const scanned = await q(`SELECT key FROM pgcache.cache_scan('hp_ops', 'order:', NULL, 5)`);
    expect(scanned.map((r) => r.key)).toEqual(['order:1', 'order:10', 'order:2', 'order:3', 'order:4']);
    expect((await one(`SELECT pgcache.cache_touch('hp_ops', 'user:1', interval '1 day') AS ok`)).ok).toBe(true);
    expect((await one(`SELECT pgcache.cache_delete('hp_ops', 'user:2') AS ok`)).ok).toBe(true);
    expect(Number((await one(`SELECT pgcache.cache_invalidate_prefix('hp_ops', 'order:') AS n`)).n)).toBe(10);
    // Budget: 40 entries under FIFO, over four leaves.
    expect(Number((await one(`SELECT pgcache.cache_evict('hp_ops') AS n`)).n)).toBe(19);
    const stats = await one(`SELECT entries, hits, misses FROM pgcache.cache_stats() WHERE cache_type = 'hp_ops'`);
    expect(stats).toEqual({ entries: '40', hits: '3', misses: '2' });
    await one(`SELECT pgcache.cache_bump_version('hp_ops')`);
    expect(Number((await one(`SELECT pgcache.cache_cleanup_expired('hp_ops') AS n`)).n)).toBe(40);
    expect(await rowsPerLeaf('hp_ops')).toEqual([0, 0, 0, 0]);
  });

  it('is maintained by cache_maintenance() like any type', async () => {
    await createType('hp_maint', 'jsonb', ', p_max_entries => 10');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_maint', 2)`);
    await fill('hp_maint', 25);
    const runs = await q(`SELECT cache_type, evicted FROM pgcache.cache_maintenance() WHERE cache_type = 'hp_maint'`);
    expect(runs).toEqual([{ cache_type: 'hp_maint', evicted: '15' }]);
    expect((await rowsPerLeaf('hp_maint')).reduce((a, b) => a + b)).toBe(10);
  });

  it('reads one leaf for a key lookup (run-time pruning in the generic plan)', async () => {
    await createType('hp_prune');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_prune', 8)`);
    await fill('hp_prune', 100);
    const client = await db.pool.connect();
    try {
      await client.query(`SET plan_cache_mode = force_generic_plan`);
      await client.query(
        `PREPARE peek(smallint, text) AS SELECT value_json FROM pgcache.entries WHERE type_id = $1 AND key = $2`,
      );
      const id = (await client.query(`SELECT id FROM pgcache.cache_types WHERE name = 'hp_prune'`)).rows[0].id;
      const plan = await client.query(
        `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE peek(${Number(id)}, 'k42')`,
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      // One leaf scanned (named once as a table, once in its index name); the others pruned at executor start.
      expect(text.match(/ on "cache_hp_prune\$\d+"/g)).toHaveLength(1);
      expect(text).toMatch(/Subplans Removed: \d+/);
    } finally {
      await client.query('DEALLOCATE ALL');
      client.release();
    }
  });

  it('goes with its type: cache_drop_type removes every leaf', async () => {
    await createType('hp_gone');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_gone', 3)`);
    await one(`SELECT pgcache.cache_drop_type('hp_gone')`);
    expect(await q(`SELECT relname FROM pg_class WHERE relname LIKE 'cache_hp_gone%'`)).toEqual([]);
  });

  // core/11_storage.sql re-applies the storage options on every install: to the leaves, since a partitioned
  // table takes none (ERROR: unrecognized parameter "fillfactor").
  it('survives a re-run of sql/install.sql', async () => {
    await createType('hp_reinstall');
    await one(`SELECT pgcache.cache_hash_partition_type('hp_reinstall', 2)`);
    await fill('hp_reinstall', 10);
    execFileSync('psql', [db.url, '-X', '-q', '-f', 'sql/install.sql'], { cwd: repoRoot, stdio: 'pipe' });
    expect((await partitions('hp_reinstall')).length).toBe(2);
    expect((await rowsPerLeaf('hp_reinstall')).reduce((a, b) => a + b)).toBe(10);
  });
});
