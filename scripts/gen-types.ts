// `npm run gen:types`: starts the private cluster, installs sql/ and regenerates src/generated/zapatos.
import setup from '../test/setup/global.js';
import { committedTypesDir, generateTypes } from './lib/types.js';

const teardown = await setup();
try {
  await generateTypes(committedTypesDir);
  console.log(`pgcache: wrote ${committedTypesDir}/zapatos/schema.d.ts and ${committedTypesDir}/rows.ts`);
} finally {
  teardown();
}
