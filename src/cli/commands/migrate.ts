// pgcache migrate: installs or upgrades pgcache through node-pg-migrate (the same migrations the library runs).
import { Command } from 'commander';
import { migrate } from '../../install/migrate.js';
import { type ConnectionOptions, connectionOptions, quotedSchema, requireUrl, withClient } from '../connection.js';

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
    .option(
      '--role-prefix <prefix>',
      'name the roles <prefix>_reader, _writer and _admin (default <database>_<schema>, kept from the first install)',
    )
    .option('--no-wait', 'fail at once when another migrator holds the lock, instead of waiting for it')
    .action(async (options: ConnectionOptions & { verbose?: boolean; rolePrefix?: string; wait: boolean }) => {
      const result = await migrate({
        databaseUrl: requireUrl(options),
        schema: options.schema,
        verbose: options.verbose,
        rolePrefix: options.rolePrefix,
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
      const roles = await withClient(options, async (client) => {
        const { rows } = await client.query(
          `SELECT reader_role, writer_role, admin_role, current_user AS installer, (SELECT count(*)::int FROM pg_roles r
                   WHERE r.rolname IN (i.reader_role, i.writer_role, i.admin_role)) AS present
             FROM ${quotedSchema(options)}.pgcache_install i`,
        );
        return rows[0];
      });
      if (result.length > 0 && roles?.present === 3) {
        console.log(`Roles to grant: ${roles.reader_role}, ${roles.writer_role}, ${roles.admin_role}`);
      } else if (roles && roles.present < 3) {
        // The install skips the roles (with a notice node-pg-migrate does not show) when it may not create them.
        console.log(
          `Roles not created: ${roles.installer} may not create roles (it needs CREATEROLE), so only it can call ` +
            `pgcache's functions. To get ${roles.reader_role}, ${roles.writer_role} and ${roles.admin_role}: give it ` +
            "CREATEROLE and run the package's sql/install.sql again with psql (it re-applies the install); or GRANT EXECUTE on " +
            "the functions to your application's roles yourself.",
        );
      }
    });
}
