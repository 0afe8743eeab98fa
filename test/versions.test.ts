// Versions: released SQL never changes, and the current sql/ is reachable from every release. An install of
// 0.1.0 from its frozen files, upgraded (by migrate() and by psql), must have the very catalog of a fresh
// install of the current sql/ — so a change to a table in sql/ fails here until its upgrade step has the DDL.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentVersion, releasedVersions, sqlDir, upgradeSteps } from '../migrations/lib/install-files.js';
import { repoRoot } from '../scripts/lib/cluster.js';
import { migrate } from '../src/install/migrate.js';
import { catalog, catalogDiff } from './helpers/catalog.js';
import { useDatabase } from './helpers/db.js';

const db = useDatabase('bare');

const psql = (url: string, ...args: string[]) =>
  execFileSync('psql', [url, '-X', '-q', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(sqlDir, join(d.parentPath, d.name)));
}

describe('frozen releases', () => {
  const sums = new Map(
    readFileSync(join(sqlDir, 'releases/SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [hash, path] = line.split(/\s+/);
        return [path, hash] as [string, string];
      }),
  );

  it('every released file is byte-identical to its recorded hash', () => {
    for (const [path, hash] of sums) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(sqlDir, path)))
          .digest('hex'),
        path,
      ).toBe(hash);
    }
  });

  it('the manifest lists every file of every release and every released upgrade step, and nothing else', () => {
    const released = releasedVersions();
    expect(released[0]).toBe('0.1.0');
    const expected = [
      ...filesUnder(join(sqlDir, 'releases')).filter((f) => f !== 'releases/SHA256SUMS'),
      ...upgradeSteps()
        .filter((s) => released.includes(s.to))
        .map((s) => s.file),
    ].sort();
    expect([...sums.keys()].sort()).toEqual(expected);
  });

  it('each version after the first has exactly one upgrade step, from the version before it', () => {
    const versions = [...releasedVersions(), currentVersion()].filter((v, i, all) => all.indexOf(v) === i);
    expect(upgradeSteps().map((s) => `${s.from}->${s.to}`)).toEqual(
      versions.slice(1).map((v, i) => `${versions[i]}->${v}`),
    );
  });

  it('sql/upgrade.sql runs every upgrade step, oldest first', () => {
    const listed = [...readFileSync(join(sqlDir, 'upgrade.sql'), 'utf8').matchAll(/^\\ir\s+(upgrades\/\S+)$/gm)].map(
      (m) => m[1],
    );
    expect(listed).toEqual(upgradeSteps().map((s) => s.file));
  });
});

describe('an upgraded install is a fresh install', () => {
  it('0.1.0 upgraded by migrate(), and every release upgraded by psql, has the catalog of a fresh install', async () => {
    // migrate(): 0001..0007 install 0.1.0 from sql/releases/0.1.0, the later migrations upgrade it.
    await migrate({ databaseUrl: db.url, schema: 'ver_migrated' });
    // psql: each release's frozen install.sql, then sql/upgrade.sql.
    const upgraded = releasedVersions().map((v) => `ver_up_${v.replaceAll('.', '_')}`);
    for (const [i, v] of releasedVersions().entries()) {
      psql(db.url, '-v', `schema=${upgraded[i]}`, '-f', `sql/releases/${v}/install.sql`);
      psql(db.url, '-v', `schema=${upgraded[i]}`, '-f', 'sql/upgrade.sql');
    }
    psql(db.url, '-v', 'schema=ver_fresh', '-f', 'sql/install.sql');

    const fresh = await catalog(db.pool, 'ver_fresh');
    const migrated = await catalog(db.pool, 'ver_migrated', [/pgcache_migrations/]);
    expect(fresh.length).toBeGreaterThan(200);
    // onlyA: what the upgraded install has and a fresh one lacks; onlyB: the reverse. A difference means sql/
    // changed without its DDL in the upgrade step (docs/versions.md, "Changing the SQL").
    const pending = upgradeSteps().find((s) => !releasedVersions().includes(s.to));
    const hint = pending
      ? `add the DDL to sql/${pending.file}`
      : 'sql/ differs from the newest release: start the next version (npx tsx scripts/release.ts start <version>)';
    expect(catalogDiff(migrated, fresh), `migrate() from 0.1.0 vs fresh: ${hint}`).toEqual({ onlyA: [], onlyB: [] });
    for (const [i, v] of releasedVersions().entries()) {
      const psqlUp = await catalog(db.pool, upgraded[i] as string);
      expect(catalogDiff(psqlUp, fresh), `psql upgrade from ${v} vs fresh: ${hint}`).toEqual({ onlyA: [], onlyB: [] });
    }
  });

  it('the comparison sees a column, a default, a grant and a function body', async () => {
    const before = await catalog(db.pool, 'ver_fresh');
    await db.pool.query(`ALTER TABLE ver_fresh.cache_models ADD COLUMN probe_column text`);
    await db.pool.query(`ALTER TABLE ver_fresh.cache_settings ALTER COLUMN description SET DEFAULT 'x'`);
    const { rows } = await db.pool.query(`SELECT reader_role FROM ver_fresh.pgcache_install`);
    await db.pool.query(`GRANT SELECT ON ver_fresh.entries TO "${rows[0].reader_role}"`);
    await db.pool.query(`CREATE OR REPLACE FUNCTION ver_fresh._noop() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    const { onlyA, onlyB } = catalogDiff(before, await catalog(db.pool, 'ver_fresh'));
    expect(onlyB.some((l) => l.startsWith('column: cache_models.probe_column'))).toBe(true);
    expect(onlyB.some((l) => l.includes("default='x'::text"))).toBe(true);
    expect(onlyB.some((l) => l.startsWith('relation: entries') && l.includes('DATABASE_SCHEMA_reader=r/'))).toBe(true);
    expect(onlyB.some((l) => l.includes('FUNCTION "SCHEMA"._noop()') || l.includes('FUNCTION SCHEMA._noop()'))).toBe(
      true,
    );
    expect(onlyA.length).toBeGreaterThan(0);
  });
});
