// `npm start`: the README's first command. Runs `pgcache demo` on embedded PGlite: no PostgreSQL server,
// no provisioning. Arguments pass through: npm start -- --serve, npm start -- --fresh, npm start -- --help.
import { run } from '../src/cli/program.js';

process.exitCode = await run(['demo', ...process.argv.slice(2)]);
