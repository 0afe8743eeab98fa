// pgvector's text form of a vector, '[1,2,3]', for parameters cast to ::vector (and back, for its results).
// A few lines of our own instead of the pgvector npm package, so the package needs no dependency for it.

/** The pgvector literal of the numbers: '[x1,x2,...]'. */
export function toVectorSql(vector: ArrayLike<number>): string {
  return `[${Array.from(vector).join(',')}]`;
}

/** The numbers of a pgvector literal as pg returns a vector column: '[1,2,3]' -> [1, 2, 3]. */
export function fromVectorSql(text: string): number[] {
  const inner = text.trim().replace(/^\[|\]$/g, '');
  return inner === '' ? [] : inner.split(',').map(Number);
}
