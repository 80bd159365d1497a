import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of the workspace packages (the "source" export
// condition); processes the tests start (api, worker, cli) run the built dist/.
const shared = {
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
};

export default defineConfig({
  ...shared,
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    pool: 'forks',
    // Vitest's default is one file fewer than the cores: on a 2-core machine, one at a time. A file
    // here mostly waits on PostgreSQL, Redis and the processes it starts, so two run at once
    // (COFFRE_TEST_WORKERS to change it) beside the fault suite; faults and web keep theirs one at a
    // time. Three at once was barely faster in all (the fault suite is the longer of the two runs)
    // and made timing races of three tests show up in one run of two.
    maxWorkers: Number(process.env.COFFRE_TEST_WORKERS ?? 2),
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          globalSetup: ['test/support/global-setup.ts'],
          include: ['shared/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'faults',
          globalSetup: ['test/support/global-setup.ts'],
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          // The README's first command (scripts/start.sh), which rebuilds: run alone, last.
          name: 'start',
          globalSetup: ['test/support/global-setup.ts'],
          include: ['test/start/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'security',
          globalSetup: ['test/support/global-setup.ts'],
          include: ['test/security/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          // The web UI in Debian's chromium against the real API, worker, PostgreSQL and Redis.
          name: 'web',
          globalSetup: ['test/support/global-setup.ts'],
          include: ['services/web/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
