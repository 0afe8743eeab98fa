// The plans a function really runs with (its own SET options included), captured through auto_explain
// messages sent to the client.
import type pg from 'pg';

export async function plansOf(client: pg.PoolClient, sql: string, params: unknown[] = []): Promise<string> {
  const messages: string[] = [];
  const collect = (notice: { message?: string }) => messages.push(notice.message ?? '');
  client.on('notice', collect);
  try {
    await client.query(`LOAD 'auto_explain'`);
    await client.query('SET auto_explain.log_min_duration = 0');
    await client.query('SET auto_explain.log_nested_statements = on');
    await client.query('SET client_min_messages = log');
    await client.query(sql, params);
  } finally {
    await client.query('RESET client_min_messages; RESET auto_explain.log_min_duration');
    client.off('notice', collect);
  }
  return messages.join('\n');
}
