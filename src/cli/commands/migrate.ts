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
          'migrations as the library, recorded in <schema>.pgcache_migrations; running it again is a no-op.',
      ),
  )
    .option('-v, --verbose', "print node-pg-migrate's progress")
    .option(
      '--role-prefix <prefix>',
      'name the roles <prefix>_reader, _writer and _admin (default <database>_<schema>, kept from the first install)',
    )
    .action(async (options: ConnectionOptions & { verbose?: boolean; rolePrefix?: string }) => {
      const ran = await migrate({
        databaseUrl: requireUrl(options),
        schema: options.schema,
        verbose: options.verbose,
        rolePrefix: options.rolePrefix,
      });
      if (ran.length === 0) console.log(`pgcache is up to date in schema "${options.schema}".`);
      else console.log(`Applied ${ran.length} migration(s) in schema "${options.schema}": ${ran.join(', ')}`);
    });
}
