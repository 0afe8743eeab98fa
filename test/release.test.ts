// The release script, tried on a copy of sql/ and migrations/: freezing the version in progress and starting
// the next one leave a tree whose versions, hashes and migrations line up.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { currentVersion } from '../migrations/lib/install-files.js';
import { repoRoot } from '../scripts/lib/cluster.js';
import { freeze, start } from '../scripts/lib/release.js';

const root = mkdtempSync(join(tmpdir(), 'pgcache-release-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('freezes the version in progress, then starts the next one', async () => {
  cpSync(join(repoRoot, 'sql'), join(root, 'sql'), { recursive: true });
  cpSync(join(repoRoot, 'migrations'), join(root, 'migrations'), { recursive: true });
  const version = currentVersion();
  const sql = join(root, 'sql');

  expect(() => start(sql, join(root, 'migrations'), '9.9.9')).toThrow(/still unreleased/);
  const frozen = freeze(sql, version);
  expect(frozen).toContain(`releases/${version}/install.sql`);
  expect(frozen).toContain(`releases/${version}/core/00_schema.sql`);
  for (const file of frozen.filter((f) => f.startsWith('releases/'))) {
    const current = file.replace(`releases/${version}/`, '');
    expect(readFileSync(join(sql, file), 'utf8'), file).toBe(readFileSync(join(repoRoot, 'sql', current), 'utf8'));
  }
  execFileSync('sha256sum', ['--quiet', '-c', 'releases/SHA256SUMS'], { cwd: sql });
  expect(() => freeze(sql, version)).toThrow(/already released/);

  const [major, minor] = version.split('.').map(Number);
  const next = `${major}.${(minor as number) + 1}.0`;
  const written = start(sql, join(root, 'migrations'), next);
  expect(written[0]).toBe(`sql/upgrades/pgcache--${version}--${next}.sql`);
  expect(readFileSync(join(sql, 'upgrade.sql'), 'utf8')).toContain(`\\ir upgrades/pgcache--${version}--${next}.sql\n`);

  // The copied tree's own version logic now sees the release and the next version.
  const lib = await import(join(root, 'migrations/lib/install-files.js'));
  expect(lib.releasedVersions()).toContain(version);
  expect(lib.currentVersion()).toBe(next);
  expect(lib.versionDir(version)).toBe(join(sql, 'releases', version));
  expect(lib.versionDir(next)).toBe(sql);
  const migration = await import(join(root, written[1] as string));
  expect(migration.files).toEqual(lib.installFiles(next).filter((f: string) => f !== 'prelude.sql'));
});
