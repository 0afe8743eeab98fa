// Docs cannot rot: the README's TypeScript example type-checks against the package, and the README's
// SQLSTATE table, the TypeScript error map and the codes the SQL raises are the same set.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/cluster.js';
import { SQLSTATES } from '../src/client/errors.js';
import { useDatabase } from './helpers/db.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const workDir = join(repoRoot, 'test/.readme-example');
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const db = useDatabase();

it('the README TypeScript example compiles', () => {
  const section = readme.slice(readme.indexOf('## TypeScript usage'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeTruthy();
  mkdirSync(workDir, { recursive: true });
  const example = (code as string)
    .replaceAll("from 'pgcache/keyv'", "from '../../src/keyv.js'")
    .replaceAll("from 'pgcache'", "from '../../src/index.js'");
  writeFileSync(join(workDir, 'example.ts'), `${example}\nexport {};\n`);
  writeFileSync(
    join(workDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true },
      include: ['example.ts', '../../src/generated'],
    }),
  );
  execFileSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(workDir, 'tsconfig.json')], {
    encoding: 'utf8',
  });
}, 60_000);

it('the README TypeScript example runs against a database and its process exits by itself', () => {
  // The example, then a watchdog that does not itself keep the process alive: if anything still does 5 s
  // after the example ended (a pool left open idles 10 s before it lets go), the run fails.
  const example = readFileSync(join(workDir, 'example.ts'), 'utf8');
  const watchdog = `setTimeout(() => {
  console.error('still alive 5 s after the example ended:', process.getActiveResourcesInfo().join(', '));
  process.exit(3);
}, 5000).unref();`;
  writeFileSync(join(workDir, 'run.ts'), `${example.replace(/export \{\};\n$/, '')}${watchdog}\nexport {};\n`);
  const run = spawnSync(join(repoRoot, 'node_modules/.bin/tsx'), [join(workDir, 'run.ts')], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.url },
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/PC004 ttl/);
}, 90_000);

it('the README SQL blocks run as written, in order, in one psql session, without an error', () => {
  const blocks = [...readme.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  expect(blocks.length).toBeGreaterThan(1);
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, 'readme.sql');
  writeFileSync(file, blocks.join('\n'));
  const run = spawnSync('psql', [db.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], { encoding: 'utf8' });
  expect(run.stderr).not.toMatch(/ERROR/);
  expect(run.status).toBe(0);
}, 60_000);

it('README error table = TypeScript error map = codes raised in sql/', () => {
  const inReadme = [...readme.matchAll(/^\| (PC\d{3})\s*\|/gm)].map((m) => m[1]).sort();
  const inSql = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      // Frozen releases keep the codes they raised then; the current state is what is documented.
      if (name.isDirectory()) {
        if (path !== join(repoRoot, 'sql/releases')) walk(path);
      } else for (const m of readFileSync(path, 'utf8').matchAll(/ERRCODE = '(PC\d{3})'/g)) inSql.add(m[1] as string);
    }
  };
  walk(join(repoRoot, 'sql'));
  const inTs = Object.keys(SQLSTATES).sort();
  expect(inReadme).toEqual(inTs);
  // Every code the SQL raises is documented (PC011 is raised by optional features that may come later).
  for (const code of inSql) expect(inTs).toContain(code);
});

it('the README TypeScript blocks import every pgcache export they use', async () => {
  const exported = Object.keys(await import('../src/index.js'));
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  expect(blocks.length).toBeGreaterThan(1);
  for (const block of blocks) {
    const imported = [...block.matchAll(/import \{([^}]*)\} from 'pgcache'/g)].flatMap((m) =>
      (m[1] as string).split(',').map((name) => name.trim()),
    );
    const used = exported.filter((name) => new RegExp(`\\b${name}\\b`).test(block.replace(/^import .*$/gm, '')));
    expect(imported, block.slice(0, 80)).toEqual(expect.arrayContaining(used));
  }
});

it('the README install commands name files the package ships, and keep npm banners out of redirected output', () => {
  const shipped: string[] = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).files;
  const shell = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string).join('\n');
  const sqlFiles = [...shell.matchAll(/psql .*-f (\S+\.sql)/g)].map((m) => m[1] as string);
  expect(sqlFiles.length).toBeGreaterThan(0);
  for (const file of sqlFiles) {
    // An application has the package's sql/ under node_modules/pgcache, not in its own directory.
    expect(file).toMatch(/^node_modules\/pgcache\//);
    const inPackage = file.replace(/^node_modules\/pgcache\//, '');
    expect(shipped).toContain(inPackage.split('/')[0]);
    expect(readdirSync(join(repoRoot, 'sql'))).toContain(inPackage.replace(/^sql\//, ''));
  }
  // `npm run x > file` writes npm's "> pkg@version x" banner into the file; -s leaves it out.
  for (const m of shell.matchAll(/npm run (.*?)>\s*\S+/g)) expect(m[1], m[0]).toMatch(/^-s /);
});
