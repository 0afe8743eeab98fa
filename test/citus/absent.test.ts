// The Citus suite where Citus is not installed (CI): one skipped test that says why.
import { it } from 'vitest';
import { citusMissing } from '../../scripts/lib/citus.js';

it.skip(`the Citus suite needs Citus: ${citusMissing() ?? 'installed'}; build it into PostgreSQL 15 (docs/scaling.md)`);
