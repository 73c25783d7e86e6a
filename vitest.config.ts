import { defineConfig } from 'vitest/config';

// One suite, three speeds, one project each so that `vitest run --project unit` starts no service: unit tests need
// none; integration tests talk to a real Temporal dev server (started by test/global-setup.ts, which runs only when
// a project that names it has a test queued) and to real PostgreSQL (DATABASE_URL, else they skip outside CI); e2e
// tests drive the real CLI and a real Chromium, each bringing up its own embedded services.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // One process for all unit files: importing TF.js per file cost more than the tests themselves (61 s against
      // 25 s on 2 cores); each file sets the backend it needs, and the suite passes in shuffled order too.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // In-process workers install the Temporal runtime's logger once per test process.
          setupFiles: ['test/setup-runtime.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
