import { describe } from 'vitest';

/**
 * Integration tests need real services. On a developer's machine a missing service skips the block with a visible
 * reason; under CI (`CI=true`, `.ci/run`) nothing may skip, so a missing service fails instead.
 */
export function describeWith(service: string, available: boolean, reason: string) {
  if (available) return describe;
  if (process.env.CI === 'true') {
    throw new Error(`${service} is required in CI but unavailable: ${reason}`);
  }
  console.warn(`[skipped] ${service} tests: ${reason}`);
  return describe.skip.bind(describe) as typeof describe;
}

/** URL of the real PostgreSQL server used by integration tests (`.ci/run` exports it). */
export const realPostgresUrl = process.env.DATABASE_URL;
