// pgcache migrate: installs or upgrades pgcache through node-pg-migrate (the same migrations the library runs).
import { Command } from 'commander';
import { migrate } from '../../install/migrate.js';
import { type ConnectionOptions, connectionOptions, requireUrl } from '../connection.js';

export function migrateCommand(): Command {
  return connectionOptions(
    new Command('migrate')
      .summary('install pgcache, or upgrade it to this version')
      .description(
        'Installs pgcache into --schema, or applies the migrations it lacks. Runs the same node-pg-migrate\n' +
          'migrations as the library, recorded in <schema>.pgcache_migrations; running it again is a no-op.\n' +
          'Where pgvector was created after the install, adds the vector part. Says what it left out and why.\n' +
          'Waits for a concurrent migrator of the same schema (app instances migrating at boot) unless --no-wait.',
      ),
  )
    .option('-v, --verbose', "print node-pg-migrate's progress")
    .option('--no-wait', 'fail at once when another migrator holds the lock, instead of waiting for it')
    .action(async (options: ConnectionOptions & { verbose?: boolean; wait: boolean }) => {
      const result = await migrate({
        databaseUrl: requireUrl(options),
        schema: options.schema,
        verbose: options.verbose,
        wait: options.wait,
      });
      if (result.length > 0) {
        console.log(`Applied ${result.length} migration(s) in schema "${options.schema}": ${result.join(', ')}`);
      }
      for (const part of result.added) {
        console.log(`Installed the ${part} part in schema "${options.schema}" (pgvector was created after pgcache).`);
      }
      if (result.length === 0 && result.added.length === 0) {
        console.log(`pgcache is up to date in schema "${options.schema}".`);
      }
      for (const part of result.skipped) {
        console.log(`Skipped the ${part.part} part: ${part.reason}; semantic lookup and vector overloads raise PC011.`);
        console.log(`  To add it: ${part.fix}`);
      }
    });
}
