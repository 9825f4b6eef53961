import { defineConfig } from 'vitest/config';

// test/core is pure: no peers, no registries. This config runs it without the
// root globalSetup (which builds images and starts docker-registry):
//   npx vitest run --config test/core/vitest.config.ts
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/core/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
  },
});
