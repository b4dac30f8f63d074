/**
 * Starts one throwaway PostgreSQL cluster for the postgres test project
 * (fsync off: these tests check behaviour, not durability on power loss),
 * hands its connection string to the tests with `provide`, and stops it at
 * the end. Where the server binaries are absent, the tests skip with a
 * visible message; in CI (CI=true) that is a failure instead.
 */
import type { TestProject } from 'vitest/node';
import { findPgBin, startCluster } from './cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when no cluster could be started (binaries absent). */
    pgConnectionString: string;
    pgSkipReason: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (findPgBin() === null) {
    const reason = 'PostgreSQL server binaries not found: postgres tests skipped';
    if (process.env.CI === 'true') throw new Error(`${reason} (not allowed in CI)`);
    console.warn(reason);
    project.provide('pgConnectionString', '');
    project.provide('pgSkipReason', reason);
    return () => Promise.resolve();
  }
  const cluster = await startCluster({ fsync: false });
  project.provide('pgConnectionString', cluster.connectionString);
  project.provide('pgSkipReason', '');
  process.env.ORCHESTRATOR_TEST_PG_URL = cluster.connectionString;
  return () => cluster.stop();
}
