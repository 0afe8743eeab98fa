// Child process for faults.test.ts: a cache that owns its pool (createCache({ connectionString })). It reads
// once, says "ready", and when told "go" (after the parent has terminated its connections) reads again and
// says "ok". A process that dies in between exits non-zero.
import { createInterface } from 'node:readline';
import { createCache } from '../../src/client/cache.js';

const cache = await createCache({ connectionString: process.argv[2] as string });
await cache.type('default').get('probe');
console.log('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line !== 'go') continue;
  // The terminated connection is gone from the pool; this read takes a new one.
  await cache.type('default').get('probe');
  console.log('ok');
  break;
}
lines.close();
process.stdin.destroy(); // the parent keeps its end open: let the event loop finish
await cache.close();
