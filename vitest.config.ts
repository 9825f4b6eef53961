import { defineConfig } from 'vitest/config';

// Tests run against real peers (docker-registry, skopeo, containerd): generous
// timeouts, forked workers (child processes, signals), two workers for two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
