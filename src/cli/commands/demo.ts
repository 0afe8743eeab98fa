// pgcache demo (what `npm start` runs): pgcache on embedded PGlite, with no PostgreSQL server needed.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR, runDemo } from '../../embedded/demo.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}

export function demoCommand(): Command {
  return new Command('demo')
    .summary('run pgcache on embedded PGlite with a short LLM-app workload (no server needed)')
    .description(
      'Starts PostgreSQL in this process (PGlite, with pgvector) and serves it over the wire protocol,\n' +
        'installs pgcache through its migrations, runs a short LLM-app workload with a deterministic fake\n' +
        'embedder, LLM and TTS, and prints cache_stats(). PGlite has no pg_cron, so maintenance runs on a\n' +
        'TS timer. The database is kept in --data-dir between runs (the first run creates it: 6-12 s).',
    )
    .option('--data-dir <dir>', 'where the PGlite database is kept', DEFAULT_DATA_DIR)
    .option('--in-memory', 'keep the database in memory only (created anew every run)')
    .option('--fresh', 'delete --data-dir first and start from an empty database')
    .option('--serve', 'keep serving after the demo, for psql and the CLI, until Ctrl-C')
    .option('-p, --port <port>', 'port to serve on (default: any free port)', integer('--port', 0))
    .option(
      '--maintenance-interval <ms>',
      'maintenance timer interval in milliseconds',
      integer('--maintenance-interval', 10),
      1000,
    )
    .action(
      async (options: {
        dataDir: string;
        inMemory?: boolean;
        fresh?: boolean;
        serve?: boolean;
        port?: number;
        maintenanceInterval: number;
      }) => {
        await runDemo({
          dataDir: options.dataDir,
          inMemory: options.inMemory,
          fresh: options.fresh,
          serve: options.serve,
          port: options.port,
          maintenanceIntervalMs: options.maintenanceInterval,
        });
      },
    );
}
