// pgcache's SQLSTATEs and the error classes the client raises for them. This table is the one place the
// codes are listed in TypeScript; a test checks it against the codes the SQL raises and the README table.
import type { DatabaseError } from 'pg';

export const SQLSTATES = {
  PC001: 'unknown cache type',
  PC002: 'NULL or empty key',
  PC003: 'key longer than 1024 bytes',
  PC004: 'TTL NULL, not positive, over 100 years, or an unknown TTL class',
  PC005: 'value of the wrong kind for the type, or NULL',
  PC006: "vector width differs from the model's registered width",
  PC007: "value larger than the type's max_value_bytes",
  PC008: 'invalid cache type definition (name, kind, policy, budgets, attributes)',
  PC009: 'cache type already exists',
  PC010: 'invalid argument (model, meta attribute, vector, prefix, pattern, batch lengths, policy, budget)',
  PC011: 'pgvector missing, or pg_cron missing from this database (it lives in cron.database_name)',
  PC012: 'batch larger than its limit',
  PC013: 'tenant-scoped type used without a valid SET pgcache.tenant',
  PC014: 'pgcache is not installed in the schema (run pgcache migrate)',
  PC015: 'entry is not an integer, or the increment leaves the bigint range (incr)',
  PC016: 'entry is not a JSON object (patch)',
  PC018: 'invalid tags (NULL or empty tag, tag over 256 bytes, more than 64 per entry)',
  PC019: 'table watch refused (not the table owner, not a table, bad tag template or columns)',
  PC020: 'install or uninstall refused (shared or foreign schema, role name too long or taken, not a pgcache install)',
  PC021: 'not possible on a distributed (Citus) install, or distribution refused',
} as const;

export type PgcacheSqlState = keyof typeof SQLSTATES;

/** Base class of every error pgcache raises on purpose. `argument` names the bad argument when known. */
export class PgcacheError extends Error {
  readonly code: PgcacheSqlState;
  readonly argument: string | undefined;
  readonly cause: unknown;
  constructor(code: PgcacheSqlState, message: string, cause?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.argument = /argument "([^"]+)"/.exec(message)?.[1];
    this.cause = cause;
  }
}

export class UnknownCacheTypeError extends PgcacheError {}
export class InvalidKeyError extends PgcacheError {}
export class KeyTooLongError extends PgcacheError {}
export class InvalidTtlError extends PgcacheError {}
export class WrongValueKindError extends PgcacheError {}
export class VectorWidthMismatchError extends PgcacheError {}
export class ValueTooLargeError extends PgcacheError {}
export class InvalidTypeDefinitionError extends PgcacheError {}
export class CacheTypeExistsError extends PgcacheError {}
export class InvalidArgumentError extends PgcacheError {}
export class FeatureUnavailableError extends PgcacheError {}
export class BatchTooLargeError extends PgcacheError {}
export class TenantRequiredError extends PgcacheError {}
/** Raised by the client (not the SQL) when the schema holds no pgcache install. */
export class NotInstalledError extends PgcacheError {}
export class InstallRefusedError extends PgcacheError {}
/** incr on an entry that holds no integer, or a sum beyond bigint (Redis: "not an integer or out of range"). */
export class NotAnIntegerError extends PgcacheError {}
/** patch on an entry that holds no JSON object. */
export class NotAnObjectError extends PgcacheError {}
export class InvalidTagsError extends PgcacheError {}
export class WatchRefusedError extends PgcacheError {}
/** What a Citus-distributed install cannot do (hash partitioning), or a distribution Citus refuses. */
export class DistributedRefusedError extends PgcacheError {}

const CLASSES: Record<PgcacheSqlState, new (code: PgcacheSqlState, message: string, cause?: unknown) => PgcacheError> =
  {
    PC001: UnknownCacheTypeError,
    PC002: InvalidKeyError,
    PC003: KeyTooLongError,
    PC004: InvalidTtlError,
    PC005: WrongValueKindError,
    PC006: VectorWidthMismatchError,
    PC007: ValueTooLargeError,
    PC008: InvalidTypeDefinitionError,
    PC009: CacheTypeExistsError,
    PC010: InvalidArgumentError,
    PC011: FeatureUnavailableError,
    PC012: BatchTooLargeError,
    PC013: TenantRequiredError,
    PC014: NotInstalledError,
    PC015: NotAnIntegerError,
    PC016: NotAnObjectError,
    PC018: InvalidTagsError,
    PC019: WatchRefusedError,
    PC020: InstallRefusedError,
    PC021: DistributedRefusedError,
  };

/** Turns a pgcache SQLSTATE into its error class; anything else (connection errors too) passes unchanged. */
export function translateError(error: unknown): unknown {
  const code = (error as Partial<DatabaseError> | undefined)?.code;
  if (code && code in CLASSES) {
    const Class = CLASSES[code as PgcacheSqlState];
    return new Class(code as PgcacheSqlState, (error as Error).message, error);
  }
  return error;
}

/** Runs `work`, raising pgcache's SQLSTATEs as their error classes (anything else passes unchanged). */
export async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateError(error);
  }
}
