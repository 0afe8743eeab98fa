// The private cluster is real: pgvector and pg_cron load, a cron job can be made and removed.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CRON_DATABASE, clusterInfo } from '../scripts/lib/cluster.js';
import { withClient } from '../scripts/lib/databases.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase('bare');

describe('private test cluster', () => {
  it('runs PostgreSQL 15 with pg_cron preloaded, on its own port', async () => {
    const { rows } = await db.pool.query(
      "SELECT current_setting('server_version_num')::int AS v, current_setting('shared_preload_libraries') AS preload, current_setting('port')::int AS port",
    );
    expect(rows[0].v).toBeGreaterThanOrEqual(150000);
    expect(rows[0].v).toBeLessThan(160000);
    expect(rows[0].preload).toContain('pg_cron');
    expect(rows[0].port).not.toBe(5432);
  });

  it('has pgvector 0.8 and answers a distance query', async () => {
    const { rows } = await db.pool.query(
      "SELECT extversion, '[1,0,0]'::vector <=> '[0,1,0]'::vector AS cosine, '[1,2]'::vector <-> '[4,6]'::vector AS l2 FROM pg_extension WHERE extname = 'vector'",
    );
    expect(rows[0].extversion).toMatch(/^0\.8\./);
    expect(rows[0].cosine).toBeCloseTo(1);
    expect(rows[0].l2).toBeCloseTo(5);
  });

  it('creates and removes a named pg_cron job in the cron database', async () => {
    await withClient(clusterInfo().url(CRON_DATABASE), async (cron: pg.Client) => {
      const jobName = `pgcache-test-${process.pid}`;
      const { rows } = await cron.query("SELECT cron.schedule_in_database($1, '* * * * *', 'SELECT 1', $2) AS id", [
        jobName,
        db.name,
      ]);
      expect(Number(rows[0].id)).toBeGreaterThan(0);
      const listed = await cron.query('SELECT database, command FROM cron.job WHERE jobname = $1', [jobName]);
      expect(listed.rows).toEqual([{ database: db.name, command: 'SELECT 1' }]);
      await cron.query('SELECT cron.unschedule($1)', [jobName]);
      const after = await cron.query('SELECT count(*)::int AS n FROM cron.job WHERE jobname = $1', [jobName]);
      expect(after.rows[0].n).toBe(0);
    });
  });
});
