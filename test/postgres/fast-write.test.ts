/**
 * The optimistic write of one execution with few rows (every step's write)
 * goes as a statement of scalar parameters. It must mean exactly what the
 * array statement and the other stores mean, and keep their guarantees: the
 * version check, the fence, all or nothing, also against a writer that
 * commits while the statement waits for it.
 */
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { createMemoryStore } from '../../src/stores/memory-store.js';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { PostgresCheckpointStore } from '../../src/stores/postgres-store.js';
import type { StoreBatch } from '../../src/stores/types.js';
import { finished, iso, makeCheckpoint, started, statusEntry, summary } from '../stores/fixtures.js';
import { describePg, PG_URL, sql, uniqueSchema, waitFor } from './helpers.js';

const opened: PostgresCheckpointStore[] = [];
const clients: pg.Client[] = [];
function open(schema: string): PostgresCheckpointStore {
  const store = createPostgresStore({ connectionString: PG_URL, schema });
  opened.push(store);
  return store;
}
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  clients.push(client);
  return client;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.end()));
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

/** Resolves once a statement on `schema` waits for a lock another transaction holds. */
function blockedOn(schema: string): Promise<void> {
  return waitFor(async () => {
    const rows = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
      [`"${schema}"`],
    );
    return (rows[0]?.n ?? 0) > 0;
  }, 'a write waiting for a lock');
}

describePg('postgres store: the scalar statement of a single execution', () => {
  it('stores what the memory store stores, for every part a single execution’s write can have', async () => {
    const store = open(uniqueSchema('solo'));
    const memory = createMemoryStore();
    const [c1, c2, c3] = [makeCheckpoint('e1', 'one'), makeCheckpoint('e1', 'two'), makeCheckpoint('e1', 'three')];
    const writes: StoreBatch[][] = [
      // A new execution with an entry and two checkpoints: their order is kept.
      [{ executionId: 'e1', summary: summary('e1'), journal: [statusEntry('running')], checkpoints: [c1, c2] }],
      // A step's write.
      [{ executionId: 'e1', journal: [started('s1'), finished('s1', { rows: [1, 2], quote: `'"\\` })] }],
      // The most rows the scalar statement takes.
      [{ executionId: 'e1', journal: [started('s2'), finished('s2'), started('s3'), finished('s3')] }],
      // A new summary (createdAt kept), a checkpoint and pruning.
      [{ executionId: 'e1', summary: summary('e1', { status: 'paused', updatedAt: iso(9), createdAt: iso(5) }), checkpoints: [c3], keepCheckpoints: 2 }],
      // Two batches of the same execution in one call continue each other.
      [
        { executionId: 'e1', journal: [started('s4')] },
        { executionId: 'e1', journal: [finished('s4')], keepCheckpoints: 1 },
      ],
    ];
    // Read first (as openExecution does): the store then knows they are new, and creates them optimistically too.
    expect(await store.loadExecution('e1')).toBeNull();
    expect(await store.loadExecution('e2')).toBeNull();
    const reader = open(store.schema);
    for (const batches of writes) {
      await store.write(batches);
      await memory.write(batches);
      expect(await reader.loadExecution('e1')).toEqual(await memory.loadExecution('e1'));
    }
    expect(store.stats()).toEqual({ optimistic: 5, solo: 5, locked: 0 });
    // More rows than it takes, or two executions: the array statement.
    const more: StoreBatch[][] = [
      [{ executionId: 'e1', journal: ['a', 'b', 'c', 'd', 'e'].map((id) => started(id)) }],
      [
        { executionId: 'e1', journal: [finished('e')] },
        { executionId: 'e2', summary: summary('e2'), journal: [started('x')] },
      ],
    ];
    for (const batches of more) {
      await store.write(batches);
      await memory.write(batches);
    }
    expect(store.stats()).toEqual({ optimistic: 7, solo: 5, locked: 0 });
    for (const id of ['e1', 'e2']) expect(await reader.loadExecution(id)).toEqual(await memory.loadExecution(id));
    const stored = await reader.loadExecution('e1');
    expect(stored?.summary).toMatchObject({ status: 'paused', createdAt: iso(0), updatedAt: iso(9) });
    expect(stored?.journal.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(stored?.checkpoints.map((c) => [c.checkpoint.description, c.journalSeq])).toEqual([['three', 7]]);
    await memory.close();
  });

  it('refuses to land on a version it did not see: the locking path writes it after the other writer', async () => {
    const schema = uniqueSchema('solover');
    const [a, b] = [open(schema), open(schema)] as const;
    await a.loadExecution('e1');
    await a.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    expect(await b.loadExecution('e1')).not.toBeNull();
    await a.write([{ executionId: 'e1', journal: [finished('s1')] }]);
    // b's view is one write old. Its summary-only write collides on no row: only the version tells.
    await b.write([{ executionId: 'e1', summary: summary('e1', { status: 'paused' }) }]);
    expect(b.stats()).toEqual({ optimistic: 0, solo: 0, locked: 1 });
    // a's view is stale now too: its step write would reuse no seq, yet is refused and renumbered.
    await a.write([{ executionId: 'e1', journal: [started('s2')] }]);
    expect(a.stats()).toEqual({ optimistic: 2, solo: 2, locked: 1 });
    // Each fresh again after its locking write.
    await b.write([{ executionId: 'e1', journal: [finished('s2')] }]);
    expect(b.stats()).toEqual({ optimistic: 0, solo: 0, locked: 2 });
    await b.write([{ executionId: 'e1', journal: [statusEntry('completed')] }]);
    expect(b.stats()).toEqual({ optimistic: 1, solo: 1, locked: 2 });
    const stored = await open(schema).loadExecution('e1');
    expect(stored?.journal.map((e) => `${e.seq}:${e.kind}`)).toEqual(['1:step_started', '2:step_finished', '3:step_started', '4:step_finished', '5:status']);
    expect(stored?.summary.status).toBe('paused');
  });

  it('waits for a writer that holds the execution, then sees its commit and does not land on it', async () => {
    const schema = uniqueSchema('solowait');
    const store = open(schema);
    await store.loadExecution('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    // Another process's write of a new status, in flight: the version is all that tells (no journal row to collide on).
    const other = await connect();
    await other.query('BEGIN');
    await other.query(`UPDATE "${schema}".executions SET version = version + 1, status = 'paused' WHERE execution_id = 'e1'`);
    const pending = store.write([{ executionId: 'e1', journal: [finished('s1')] }]);
    await blockedOn(schema);
    await other.query('COMMIT');
    await pending;
    expect(store.stats()).toEqual({ optimistic: 1, solo: 1, locked: 1 });
    const stored = await store.loadExecution('e1');
    expect(stored?.journal.map((e) => `${e.seq}:${e.kind}`)).toEqual(['1:step_started', '2:step_finished']);
    expect(stored?.summary.status).toBe('paused');
    const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".executions`);
    expect(versions).toEqual([{ version: 3 }]);
  });

  it('refuses a fenced write whose lease moves while it waits, and writes nothing of it', async () => {
    const schema = uniqueSchema('solofence');
    const store = open(schema);
    await store.loadExecution('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1') }]);
    await sql(`INSERT INTO "${schema}".queue (execution_id, pipeline_id, input, status, owner, attempts) VALUES ('e1', 'p', 'null', 'running', 'w1', 1)`);
    const fence = { executionId: 'e1', owner: 'w1', attempt: 1 };
    await store.writeFenced([{ executionId: 'e1', journal: [started('s1')] }], [fence]);
    expect(store.stats()).toEqual({ optimistic: 2, solo: 2, locked: 0 });
    // Another worker takes the lease over; its claim is not committed when the write arrives.
    const other = await connect();
    await other.query('BEGIN');
    await other.query(`UPDATE "${schema}".queue SET owner = 'w2', attempts = 2 WHERE execution_id = 'e1'`);
    const pending = store.writeFenced([{ executionId: 'e1', journal: [finished('s1')] }], [fence]);
    await blockedOn(schema);
    await other.query('COMMIT');
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.LeaseLost, details: { executionId: 'e1', owner: 'w1', attempt: 1, reason: 'lease_lost' } });
    const stored = await open(schema).loadExecution('e1');
    expect(stored?.journal.map((e) => e.kind)).toEqual(['step_started']);
    const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".executions`);
    expect(versions).toEqual([{ version: 2 }]);
  });
});
