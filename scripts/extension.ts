// pgcache as a PostgreSQL extension (docs/versions.md, README "Install").
//   tsx scripts/extension.ts build [dir]              writes pgcache.control and pgcache--*.sql (default: extension/)
//   tsx scripts/extension.ts install                  build, then copy them into $(pg_config --sharedir)/extension
//   tsx scripts/extension.ts pgtle [version] [--from v]   prints the pg_tle registration SQL
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './lib/cluster.js';
import { extensionFiles, pgTleSql } from './lib/extension.js';

export function build(dir = join(repoRoot, 'extension')): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const [name, text] of extensionFiles()) {
    writeFileSync(join(dir, name), text);
    names.push(name);
  }
  return names;
}

/** Copies the built files (only pgcache's) into the server's extension directory. */
export function install(dir = join(repoRoot, 'extension'), pgConfig = 'pg_config'): string {
  const target = join(execFileSync(pgConfig, ['--sharedir'], { encoding: 'utf8' }).trim(), 'extension');
  for (const name of build(dir)) copyFileSync(join(dir, name), join(target, name));
  return target;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'build') {
    for (const name of build(args[0] ? resolve(args[0]) : undefined)) console.log(name);
  } else if (command === 'install') {
    console.log(`installed into ${install()}`);
  } else if (command === 'pgtle') {
    const fromAt = args.indexOf('--from');
    const from = fromAt >= 0 ? args[fromAt + 1] : undefined;
    const version = args.filter((_, i) => fromAt < 0 || (i !== fromAt && i !== fromAt + 1))[0];
    process.stdout.write(pgTleSql({ version, from }));
  } else {
    console.error('usage: tsx scripts/extension.ts build [dir] | install | pgtle [version] [--from version]');
    process.exit(2);
  }
}
