import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast; e2e tests without an engine spawn the bundle (dist/); integration and e2e tests drive a real Docker engine and
// run one file at a time (two cores, one engine). The compat suite is the engine-compatibility
// check that scripts/test.sh runs once per engine (DOCKER_HOST selects it).
export default defineConfig({
  test: {
    projects: [
      // Time limits are generous: tests assert behaviour, and a loaded 2-core machine is slow.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 } },
      // The action and the CLI as processes, on what needs no engine (bad inputs, no engine).
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000 } },
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
