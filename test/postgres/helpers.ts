/**
 * Shared bits of the postgres tests: the cluster's connection string (from
 * the global setup), a fresh schema per test, direct SQL for checks.
 */
import { nanoid } from 'nanoid';
import pg from 'pg';
import { describe, inject } from 'vitest';

/** The test cluster's connection string ('' when the binaries are absent). */
export const PG_URL = inject('pgConnectionString');

/** `describe`, or `describe.skip` with the reason in its name when there is no cluster. */
export const describePg: typeof describe = PG_URL === '' ? (describe.skip as typeof describe) : describe;
if (PG_URL === '') describe.skip(inject('pgSkipReason'), () => undefined);

/** A schema name no other test uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${nanoid(10).replace(/[^A-Za-z0-9]/g, 'x').toLowerCase()}`;
}

/** Runs one statement on a short-lived connection. */
export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = [], url = PG_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Polls `check` until it returns true (the condition is in another process or the database). */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
