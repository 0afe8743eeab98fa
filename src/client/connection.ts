// One connection of the caller's, shaped as the pool the client expects: every statement runs on it, inside
// whatever transaction the caller has open there (Cache.withConnection, Cache.transaction).
import type pg from 'pg';

/** Transaction control the client issues on a connection of its own (stream's snapshot): on the caller's
 * connection the caller's transaction is the one, so these become no-ops. */
const OWN_TRANSACTION = /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i;

type Queryable = pg.PoolClient | pg.Client;

function textOf(config: unknown): string | undefined {
  return typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text;
}

/** A pool-shaped view of one connection: connect() lends the same connection, release() keeps it open. */
export function connectionAsPool(client: Queryable): pg.Pool {
  const query = (config: unknown, values?: unknown) => {
    const text = textOf(config);
    if (text !== undefined && OWN_TRANSACTION.test(text) && !/^\s*\w+\s+TO\s+SAVEPOINT/i.test(text)) {
      return Promise.resolve({ rows: [], rowCount: 0, command: '', fields: [], oid: 0 });
    }
    return (client.query as (c: unknown, v?: unknown) => Promise<pg.QueryResult>)(config, values);
  };
  const lent = {
    query,
    release: () => undefined,
    on: (event: string, listener: (...args: unknown[]) => void) => client.on(event as 'error', listener),
    off: (event: string, listener: (...args: unknown[]) => void) => client.off(event as 'error', listener),
  };
  return {
    query,
    connect: async () => lent,
    end: async () => undefined,
    on: () => undefined,
  } as unknown as pg.Pool;
}
