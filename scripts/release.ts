// Releases the SQL (docs/versions.md).
//   tsx scripts/release.ts freeze <version>   freeze the current sql/ as <version> (the version in progress)
//   tsx scripts/release.ts start <version>    begin the next version: upgrade step, migration, sql/upgrade.sql line
import { join } from 'node:path';
import { repoRoot } from './lib/cluster.js';
import { freeze, start } from './lib/release.js';

const [command, version] = process.argv.slice(2);
const sqlDir = join(repoRoot, 'sql');
if (command === 'freeze' && version) {
  for (const file of freeze(sqlDir, version)) console.log(`frozen: sql/${file}`);
  console.log(`Now: move the CHANGELOG's Unreleased section under ${version}, set package.json's version, and commit.`);
} else if (command === 'start' && version) {
  for (const file of start(sqlDir, join(repoRoot, 'migrations'), version)) console.log(`wrote: ${file}`);
} else {
  console.error('usage: tsx scripts/release.ts freeze <version> | start <version>');
  process.exit(2);
}
