import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Citus suite runs on its own cluster: npm run test:citus (vitest.citus.config.ts).
    exclude: [...configDefaults.exclude, 'test/citus/**'],
    globalSetup: ['test/setup/global.ts'],
    // Files run in parallel, each in its own database; two cores, so keep the fan-out modest.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
