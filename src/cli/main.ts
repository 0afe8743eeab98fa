// Entry point of the `pgcache` command (bin/pgcache.js runs the compiled copy; `npm run cli` runs this).
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2));
