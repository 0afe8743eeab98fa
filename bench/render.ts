// Rewrites latest.md and latest.svg from latest.json (after a change to the report or chart writer), with
// the targets recomputed from the stored measurements. Usage: tsx bench/render.ts [results directory]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../scripts/lib/cluster.js';
import { type Report, writeReport } from './lib/report.js';
import { computeTargets } from './lib/targets.js';

const dir = resolve(process.argv[2] ?? join(repoRoot, 'bench/results'));
const report = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as Report;
report.targets = computeTargets(report.results);
writeReport(dir, report);
console.log(`rewrote ${join(dir, 'latest.md')} and latest.svg`);
