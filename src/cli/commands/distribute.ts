// pgcache distribute: spreads an install over a Citus cluster (docs/scaling.md, "Citus").
import { Command, InvalidArgumentError } from 'commander';
import { distribute } from '../../install/distribute.js';
import { type ConnectionOptions, connectionOptions, requireUrl } from '../connection.js';

export function distributeCommand(): Command {
  return connectionOptions(
    new Command('distribute')
      .summary('distribute the install over a Citus cluster (run on the coordinator)')
      .description(
        'Makes entries a table distributed by key and the registry reference tables, and adapts the functions\n' +
          'to Citus (row locks per shard, expiry and eviction on each shard). Run it on the coordinator as the\n' +
          "install's owner after pgcache migrate, and again after every migrate. Idempotent.",
      ),
  )
    .option('--shards <n>', 'shards of the entries table, fixed once distributed (1 to 1024)', (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('an integer from 1 to 1024.');
      return n;
    })
    .action(async (options: ConnectionOptions & { shards?: number }) => {
      await distribute({ databaseUrl: requireUrl(options), schema: options.schema, shards: options.shards });
      console.log(`pgcache in schema "${options.schema}" is distributed over the Citus cluster.`);
    });
}
