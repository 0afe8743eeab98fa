// pgcache warm: loads entries from a JSONL file through the cache_set() overloads, one line at a time under
// a savepoint, so a bad line is reported with its number and skipped while every good line is stored whole.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import type pg from 'pg';
import {
  type ConnectionOptions,
  connectionOptions,
  quotedSchema,
  requireInstalled,
  withClient,
} from '../connection.js';
import { CliError, describeError, isPgError } from '../errors.js';
import { formatCount, formatDuration } from '../format.js';
import { progressBar } from '../progress.js';

interface WarmOptions extends ConnectionOptions {
  type?: string;
  ttl?: string;
  batch: string;
  singleTransaction?: boolean;
  json?: boolean;
  progress: boolean;
}

export interface BadLine {
  line: number;
  error: string;
  /** The SQLSTATE when PostgreSQL rejected the entry (PC005, 22P02, ...). */
  code?: string;
}

const FIELDS = new Set(['type', 'key', 'value', 'ttl', 'model', 'meta']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** SQLSTATE classes that mean "this entry is bad": pgcache's own (PC), data exceptions (22), integrity (23). */
function isEntryError(error: unknown): error is Error & { code: string } {
  return isPgError(error) && /^(PC|22|23)/.test(error.code ?? '');
}

class LineError extends Error {}

interface TypeInfo {
  kind: string;
  defaultTtl: string;
}

/** The statement and parameters that store one parsed line, through the overload for the type's value kind. */
export function setCall(
  schema: string,
  entry: Record<string, unknown>,
  types: Map<string, TypeInfo>,
  defaults: { type?: string; ttl?: string },
): { sql: string; params: unknown[] } {
  const unknown = Object.keys(entry).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw new LineError(`unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  const type = entry.type ?? defaults.type;
  if (type === undefined) throw new LineError('no "type" (add one to the line or pass --type)');
  if (typeof type !== 'string') throw new LineError('"type" must be a string');
  if (typeof entry.key !== 'string') throw new LineError('"key" must be a string');
  if (!('value' in entry)) throw new LineError('no "value"');
  if (entry.model !== undefined && typeof entry.model !== 'string') throw new LineError('"model" must be a string');
  const rawTtl = entry.ttl ?? defaults.ttl;
  if (rawTtl !== undefined && typeof rawTtl !== 'string' && typeof rawTtl !== 'number') {
    throw new LineError('"ttl" must be an interval ("1 hour") or a number of seconds');
  }
  const ttl = typeof rawTtl === 'number' ? `${rawTtl} seconds` : rawTtl;
  const info = types.get(type);
  // An unknown type goes to the plain jsonb setter, which raises pgcache's own "does not exist" (PC001).
  if (!info) return { sql: `SELECT ${schema}.cache_set($1, $2, $3::jsonb)`, params: [type, entry.key, null] };

  let value: unknown;
  let cast: string;
  const v = entry.value;
  switch (info.kind) {
    case 'text':
      if (typeof v !== 'string' && v !== null)
        throw new LineError(`"value" must be a string: type "${type}" holds text`);
      value = v;
      cast = 'text';
      break;
    case 'bytea':
      if (v !== null && (typeof v !== 'string' || !BASE64.test(v))) {
        throw new LineError(`"value" must be base64 text: type "${type}" holds bytea`);
      }
      value = v === null ? null : Buffer.from(v, 'base64');
      cast = 'bytea';
      break;
    case 'vector':
      if (v !== null && !Array.isArray(v))
        throw new LineError(`"value" must be an array of numbers: type "${type}" holds vectors`);
      value = v;
      cast = 'real[]';
      break;
    default:
      // jsonb: any JSON value; JSON null is the jsonb value null (SQL NULL is not storable).
      value = JSON.stringify(v);
      cast = 'jsonb';
  }
  const meta = entry.meta === undefined ? null : JSON.stringify(entry.meta);
  const model = entry.model ?? null;
  if (ttl === undefined && meta === null && (info.kind === 'vector' || model === null)) {
    // The setters without ttl: the type's default TTL.
    return info.kind === 'vector'
      ? { sql: `SELECT ${schema}.cache_set($1, $2, $3::real[], $4::text)`, params: [type, entry.key, value, model] }
      : { sql: `SELECT ${schema}.cache_set($1, $2, $3::${cast})`, params: [type, entry.key, value] };
  }
  return {
    sql: `SELECT ${schema}.cache_set($1, $2, $3::${cast}, $4::interval, $5::text, $6::jsonb)`,
    params: [type, entry.key, value, ttl ?? info.defaultTtl, model, meta],
  };
}

async function loadTypes(client: pg.ClientBase, schema: string): Promise<Map<string, TypeInfo>> {
  const { rows } = await client.query(`SELECT name, value_kind, default_ttl::text AS ttl FROM ${schema}.cache_types`);
  return new Map(rows.map((r) => [r.name as string, { kind: r.value_kind as string, defaultTtl: r.ttl as string }]));
}

export function warmCommand(): Command {
  return connectionOptions(
    new Command('warm')
      .summary('load entries from a JSONL file (bad lines are reported and skipped)')
      .description(
        'Stores one entry per line of a JSONL file (or - for stdin) through cache_set():\n' +
          '  {"type": "default", "key": "user:42", "value": {"name": "Ada"}, "ttl": "1 hour"}\n' +
          '  {"type": "llm_responses", "key": "k1", "value": "an answer", "model": "gpt-4o", "meta": {"tokens_used": 9}}\n' +
          '  {"type": "audio_chunks", "key": "tts:1", "value": "T2dnUw==", "meta": {"format": "opus"}}\n' +
          '  {"type": "embeddings", "key": "e1", "value": [0.1, 0.2, 0.3], "model": "my-embedder"}\n' +
          'value: any JSON for jsonb types, a string for text, base64 for bytea, an array of numbers for\n' +
          'vectors (with "model"). ttl: an interval or seconds; default: --ttl, else the type\'s default.\n' +
          'Each line is stored whole or not at all (a savepoint per line); lines that are not JSON, or that\n' +
          'pgcache rejects, are reported with their line number and skipped. Batches of --batch lines commit\n' +
          'together. Exits 1 when any line was skipped.',
      ),
  )
    .argument('<file>', 'JSONL file, or - for stdin')
    .option('-t, --type <name>', 'cache type for lines without "type"')
    .option('--ttl <interval>', 'TTL for lines without "ttl" (default: the type\'s default TTL)')
    .option('-b, --batch <n>', 'lines per transaction', '500')
    .option('--single-transaction', 'commit all good lines together at the end, or none if interrupted')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'never draw a progress bar')
    .action(async (file: string, options: WarmOptions) => {
      const batchSize = Number(options.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError('--batch must be a positive integer', 2);
      const input = file === '-' ? process.stdin : createReadStream(file);
      const total = file === '-' ? 0 : statSync(file).size;
      await withClient(options, async (client) => {
        await requireInstalled(client, options);
        const schema = quotedSchema(options);
        const types = await loadTypes(client, schema);
        const bar = progressBar(total, { enabled: options.progress && total > 0, unit: 'bytes' });
        const started = performance.now();
        const bad: BadLine[] = [];
        let lineNo = 0;
        let stored = 0;
        let storedUncommitted = 0;
        let inBatch = 0;
        let bytes = 0;
        let open = false;
        try {
          for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
            lineNo++;
            bytes += Buffer.byteLength(text) + 1;
            if (text.trim() === '') continue;
            let call: { sql: string; params: unknown[] };
            try {
              const entry: unknown = JSON.parse(text);
              if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
                throw new LineError('not a JSON object');
              }
              call = setCall(schema, entry as Record<string, unknown>, types, options);
            } catch (error) {
              if (error instanceof SyntaxError) bad.push({ line: lineNo, error: `invalid JSON: ${error.message}` });
              else if (error instanceof LineError) bad.push({ line: lineNo, error: error.message });
              else throw error;
              continue;
            }
            if (!open) {
              await client.query('BEGIN');
              open = true;
            }
            await client.query('SAVEPOINT pgcache_warm_line');
            try {
              await client.query(call.sql, call.params);
              await client.query('RELEASE SAVEPOINT pgcache_warm_line');
              storedUncommitted++;
            } catch (error) {
              if (!isEntryError(error)) throw error;
              await client.query('ROLLBACK TO SAVEPOINT pgcache_warm_line');
              bad.push({ line: lineNo, error: error.message, code: error.code });
            }
            inBatch++;
            if (!options.singleTransaction && inBatch >= batchSize) {
              await client.query('COMMIT');
              open = false;
              inBatch = 0;
              stored += storedUncommitted;
              storedUncommitted = 0;
            }
            bar.update(Math.min(bytes, total));
          }
          if (open) {
            await client.query('COMMIT');
            open = false;
            stored += storedUncommitted;
            storedUncommitted = 0;
          }
        } catch (error) {
          if (open) await client.query('ROLLBACK').catch(() => {});
          bar.stop();
          throw new CliError(
            `warm stopped at line ${lineNo}: ${describeError(error)}\n` +
              `${formatCount(stored)} entries from earlier batches were stored; the ${formatCount(storedUncommitted)} of the current batch were not.`,
          );
        }
        bar.stop();
        const ms = performance.now() - started;
        if (options.json) {
          console.log(JSON.stringify({ lines: lineNo, stored, skipped: bad.length, bad, ms: Math.round(ms) }, null, 2));
        } else {
          for (const b of bad) console.error(`line ${b.line}: ${b.error}${b.code ? ` (SQLSTATE ${b.code})` : ''}`);
          console.log(
            `Stored ${formatCount(stored)} ${stored === 1 ? 'entry' : 'entries'} from ${formatCount(lineNo)} ` +
              `line${lineNo === 1 ? '' : 's'} of ${file === '-' ? 'stdin' : file}` +
              `${bad.length > 0 ? `; skipped ${formatCount(bad.length)} bad line${bad.length === 1 ? '' : 's'}` : ''}` +
              ` (${formatDuration(ms)}).`,
          );
        }
        if (bad.length > 0) process.exitCode = 1;
      });
    });
}
