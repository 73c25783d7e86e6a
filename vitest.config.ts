import { defineConfig } from 'vitest/config';

// One suite, three speeds: unit tests run in milliseconds; integration tests talk to a real Temporal dev server and
// real PostgreSQL (started by test/global-setup.ts); e2e tests drive a real Chromium.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-runtime.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
