/**
 * The write queue keeps its connection from one write to the next. It must
 * never starve the pool (reads of a one-connection pool still get through
 * while writes keep coming), must give it back on close, and must not reuse
 * a connection the server dropped.
 */
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { PostgresCheckpointStore } from '../../src/stores/postgres-store.js';
import { finished, started, summary } from '../stores/fixtures.js';
import { describePg, PG_URL, sql, uniqueSchema, waitFor } from './helpers.js';

const opened: PostgresCheckpointStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

describePg('postgres store: the write connection', () => {
  it('keeps one connection for a run of writes, and lets reads of a one-connection pool through meanwhile', async () => {
    const store = createPostgresStore({ connectionString: PG_URL, schema: uniqueSchema('writer'), maxConnections: 1 });
    opened.push(store);
    await store.loadExecution('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1') }]);
    let checkouts = 0;
    store.pool.on('acquire', () => {
      checkouts += 1;
    });
    // A run of writes, each issued as soon as the previous one settled (as steps do), with reads racing them.
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        await store.write([{ executionId: 'e1', journal: [started(`s${i}`), finished(`s${i}`)] }]);
        written += 1;
      }
    })();
    const reads = Promise.all(
      Array.from({ length: 5 }, async () => {
        const execution = await store.loadExecution('e1');
        return { execution, written };
      }),
    );
    const [, loaded] = await Promise.all([writes, reads]);
    for (const { execution } of loaded) expect(execution?.summary.executionId).toBe('e1');
    // The reads got the one connection between writes, not only once the run of writes was over.
    expect(Math.max(...loaded.map((read) => read.written))).toBeLessThan(20);
    expect((await store.loadExecution('e1'))?.journal).toHaveLength(40);
    // Far fewer checkouts than writes: the reads, and the write connection taken back after each of them.
    expect(checkouts).toBeLessThanOrEqual(2 * 6 + 1);
    expect(store.stats()).toEqual({ optimistic: 21, solo: 21, locked: 0 });
  });

  it('gives the connection back to a pool passed in when it closes', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const store = createPostgresStore({ pool, schema: uniqueSchema('writerpool') });
    await store.loadExecution('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    // Still held right after the write: the queue may write again in this turn.
    expect(pool.idleCount).toBe(0);
    await store.close();
    expect(pool.idleCount).toBe(1);
    expect((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store.schema}".journal`)).rows).toEqual([{ n: 1 }]);
    await pool.end();
  });

  it('does not reuse a write connection the server dropped: the next write reconnects and lands once', async () => {
    const schema = uniqueSchema('writerdrop');
    const store = createPostgresStore({ connectionString: PG_URL, schema });
    opened.push(store);
    await store.loadExecution('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    const backends = await store.withClient('list backends', async (client) => {
      const result = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND position($1 in query) > 0`,
        [`"${schema}"`],
      );
      return result.rows.map((row) => row.pid);
    });
    expect(backends.length).toBeGreaterThan(0);
    await sql('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [backends]);
    await waitFor(async () => (await sql(`SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])`, [backends])).length === 0, 'the backends to exit');
    await store.write([{ executionId: 'e1', journal: [finished('s1')] }]);
    expect((await store.loadExecution('e1'))?.journal.map((e) => `${e.seq}:${e.kind}`)).toEqual(['1:step_started', '2:step_finished']);
  });
});
