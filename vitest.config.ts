import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Tests that fork children or open databases must not starve each other on 2 cores.
    pool: 'forks',
  },
});
