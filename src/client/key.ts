// cache_key() computed in-process: the same sha256 hex as the SQL function, without a round trip.
// Each part is length-prefixed (UTF-8 bytes) and parts are joined by '|', exactly as sql/core/01_checks.sql does.
import { createHash } from 'node:crypto';

export function cacheKey(...parts: string[]): string {
  if (parts.length === 0) throw new TypeError('pgcache: cacheKey needs at least one part');
  const joined = parts.map((p) => `${Buffer.byteLength(p, 'utf8')}:${p}`).join('|');
  return createHash('sha256').update(joined, 'utf8').digest('hex');
}
