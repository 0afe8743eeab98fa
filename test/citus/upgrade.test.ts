// Upgrading a distributed install: the install files run again (with Citus' sequential mode for multi-shard
// statements), then pgcache distribute adapts the re-created functions.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster.js';
import { distribute } from '../../src/index.js';
import { sqlState, useDatabase } from '../helpers/db.js';
import { TEST_SHARDS } from './database.js';

const db = useDatabase();
const one = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0];

describe('upgrades', () => {
  it('re-run the install in sequential multi-shard mode, then distribute adapts the functions again', async () => {
    const run = spawnSync(
      'psql',
      [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', join(repoRoot, 'sql/install.sql')],
      {
        env: { ...process.env, PGOPTIONS: '-c citus.multi_shard_modify_mode=sequential -c client_min_messages=error' },
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    // The install re-created the functions of one node: a bulk delete takes its row locks again.
    expect(await sqlState(db.pool.query(`SELECT pgcache.cache_invalidate_prefix('default', 'x')`))).toBe('0A000');
    await distribute({ databaseUrl: db.url, shards: TEST_SHARDS });
    await one(`SELECT pgcache.cache_set('default', 'x:' || g, '1'::jsonb) FROM generate_series(1, 20) g`);
    expect((await one(`SELECT pgcache.cache_invalidate_prefix('default', 'x:') AS n`)).n).toBe('20');
  });
});
