// One pg.Client for the length of a call (install, maintenance, the CLI's commands): opened, used, always closed.
import pg from 'pg';

/** Runs fn with one connected client and always closes it. */
export async function withClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The same connection string with another database name; undefined when it is not a URL. */
export function urlForDatabase(url: string, database: string): string | undefined {
  try {
    const u = new URL(url);
    u.pathname = `/${encodeURIComponent(database)}`;
    return u.toString();
  } catch {
    return undefined;
  }
}
