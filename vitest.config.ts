import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast; integration and e2e tests drive a real Docker engine and
// run one file at a time (two cores, one engine). The compat suite is the engine-compatibility
// check that scripts/test.sh runs once per engine (DOCKER_HOST selects it).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.itg.ts', 'test/e2e/**/*.test.itg.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 20 * 60_000,
          fileParallelism: false,
          globalSetup: ['test/support/engine-setup.ts'],
        },
      },
      {
        test: {
          name: 'compat',
          include: ['test/compat/**/*.test.itg.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 20 * 60_000,
          fileParallelism: false,
          globalSetup: ['test/support/engine-setup.ts'],
        },
      },
    ],
  },
});
