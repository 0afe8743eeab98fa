// Docs cannot rot: the README's TypeScript example type-checks against the package, and the README's
// SQLSTATE table, the TypeScript error map and the codes the SQL raises are the same set.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/cluster.js';
import { SQLSTATES } from '../src/client/errors.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const workDir = join(repoRoot, 'test/.readme-example');
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

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
