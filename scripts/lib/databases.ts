// Databases on the private cluster: the pg_cron home database and the templates that each test file clones.
import pg from 'pg';
import { withClient as withSession } from '../../src/client/session.js';
import type { ClusterInfo } from './cluster.js';
import { CRON_DATABASE } from './cluster.js';

/** Runs fn with one client connected to `url` and always closes it. */
export function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withSession({ connectionString: url }, fn);
}

async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount === 1;
}

/** Creates `name` with pgvector (and pg_cron, in the cron database) unless it exists. */
export async function ensureDatabase(info: ClusterInfo, name: string, template = 'template1'): Promise<boolean> {
  const created = await withClient(info.url(), async (admin) => {
    if (await databaseExists(admin, name)) return false;
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
    return true;
  });
  await withClient(info.url(name), async (db) => {
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
    if (name === CRON_DATABASE) await db.query('CREATE EXTENSION IF NOT EXISTS pg_cron');
  });
  return created;
}

export async function dropDatabase(info: ClusterInfo, name: string): Promise<void> {
  await withClient(info.url(), (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  );
}

/** A template is rebuilt when its recorded fingerprint (e.g. a hash of sql/) no longer matches. */
export async function ensureTemplate(
  info: ClusterInfo,
  name: string,
  fingerprint: string,
  build: (url: string) => Promise<void>,
): Promise<void> {
  const current = await withClient(info.url(), async (admin) => {
    const { rows } = await admin.query('SELECT shobj_description(oid, $2) AS fp FROM pg_database WHERE datname = $1', [
      name,
      'pg_database',
    ]);
    return rows[0]?.fp as string | undefined;
  });
  if (current === fingerprint) return;
  await withClient(info.url(), async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  });
  await ensureDatabase(info, name);
  await build(info.url(name));
  await withClient(info.url(), (admin) =>
    admin.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(fingerprint)}`),
  );
}

/** A fresh database cloned from a template: cheap, so every test file gets its own. */
export async function cloneDatabase(info: ClusterInfo, template: string, name: string): Promise<string> {
  await withClient(info.url(), async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
  });
  return info.url(name);
}
