// Errors the CLI reports without a stack trace: its own (bad usage, nothing to connect to) and PostgreSQL's,
// shown with their SQLSTATE and hint so pgcache's own codes (PC001 ...) stay visible.

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

interface PgErrorLike {
  code?: string;
  message: string;
  hint?: string;
  detail?: string;
}

export function isPgError(error: unknown): error is PgErrorLike {
  return (
    error instanceof Error &&
    typeof (error as PgErrorLike).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as PgErrorLike).code ?? '')
  );
}

/** One line (plus detail and hint lines) for an error a user can act on. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (isPgError(error)) {
    // The client's typed errors (PgcacheError) keep the server's detail and hint on their cause.
    const cause = (error as { cause?: unknown }).cause;
    const source = isPgError(cause) ? cause : error;
    const lines = [`${error.message} (SQLSTATE ${error.code})`];
    if (source.detail) lines.push(`detail: ${source.detail}`);
    if (source.hint) lines.push(`hint: ${source.hint}`);
    return lines.join('\n');
  }
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return `cannot connect to the database (${code}): ${(error as Error).message}. Check --database-url or DATABASE_URL.`;
  }
  return error instanceof Error ? error.message : String(error);
}
