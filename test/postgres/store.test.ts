/**
 * What the PostgreSQL store adds to the contract: migrations under an
 * advisory lock, a quoted schema, numbering under concurrent writers in
 * other pools, group commit, fencing, corrupt rows, connection failures,
 * and resume through openExecution.
 */
import pg from 'pg';
import { afterEach, expect, it, vi } from 'vitest';
import { ErrorCode, ExecutionError } from '../../src/errors.js';
import { openExecution } from '../../src/services/open-execution.js';
import { POSTGRES_SCHEMA_VERSION } from '../../src/stores/postgres-migrations.js';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { PostgresCheckpointStore } from '../../src/stores/postgres-store.js';
import { finished, makeCheckpoint, started, statusEntry, summary } from '../stores/fixtures.js';
import { describePg, PG_URL, sql, uniqueSchema } from './helpers.js';

const opened: PostgresCheckpointStore[] = [];
function open(schema: string, options: { retryWindowMs?: number; connectionString?: string } = {}): PostgresCheckpointStore {
  const store = createPostgresStore({ connectionString: options.connectionString ?? PG_URL, schema, ...options });
  opened.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

async function rejection(promise: Promise<unknown>): Promise<ExecutionError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExecutionError) return error;
    throw new Error(`expected an ExecutionError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection');
}

describePg('postgres store: schema and migrations', () => {
  it('creates the schema on first use and migrates it once when many processes open it at the same time', async () => {
    const schema = uniqueSchema('mig');
    const stores = Array.from({ length: 6 }, () => open(schema));
    await Promise.all(stores.map((store) => store.ready()));
    const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
    const tables = await sql<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [schema]);
    expect(tables.map((t) => t.tablename)).toEqual(['checkpoints', 'executions', 'journal', 'queue', 'schema_version']);
  });

  it('refuses a schema of a newer version with STORE_INCOMPATIBLE and changes nothing', async () => {
    const schema = uniqueSchema('newer');
    await open(schema).write([{ executionId: 'e1', summary: summary('e1') }]);
    await sql(`INSERT INTO "${schema}".schema_version VALUES (99, 'future')`);
    const later = open(schema);
    const error = await rejection(later.loadExecution('e1'));
    expect(error).toMatchObject({ code: ErrorCode.StoreIncompatible, details: { schema, version: 99, supported: POSTGRES_SCHEMA_VERSION } });
    await expect(later.write([{ executionId: 'e1', journal: [started('s')] }])).rejects.toMatchObject({ code: ErrorCode.StoreIncompatible });
    expect(await sql(`SELECT * FROM "${schema}".journal`)).toEqual([]);
  });

  it('quotes any schema name: quotes, spaces and SQL in it are just a name', async () => {
    const schema = `we"ird ${uniqueSchema('x')}; DROP SCHEMA public CASCADE; --`;
    const store = open(schema);
    const value = `'); DROP TABLE journal; -- "quoted" \\ back`;
    await store.write([{ executionId: value, summary: summary(value, { metadata: { note: value } }), journal: [finished('s1', { value })] }]);
    expect(await store.loadExecution(value)).toMatchObject({ summary: { executionId: value, metadata: { note: value } }, journal: [{ output: { value } }] });
    expect(await sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toHaveLength(1);
    expect(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = 'public'`)).toHaveLength(1);
  });

  it('refuses bad options with INVALID_INPUT naming the field', () => {
    const field = (name: string): unknown => expect.objectContaining({ code: ErrorCode.InvalidInput, field: name });
    expect(() => createPostgresStore({})).toThrow(field('connectionString'));
    expect(() => createPostgresStore({ connectionString: PG_URL, schema: 'x'.repeat(64) })).toThrow(field('schema'));
    expect(() => createPostgresStore({ connectionString: PG_URL, pool: {} as unknown as pg.Pool })).toThrow(field('pool'));
  });
});

describePg('postgres store: concurrent writers', () => {
  it('numbers the journal 1..n without gaps when four processes write the same execution at once', async () => {
    const schema = uniqueSchema('conc');
    const writers = Array.from({ length: 4 }, () => open(schema));
    // Both first writes carry the summary of a new execution: the lock covers rows that do not exist yet.
    await Promise.all(writers.map((store, w) => store.write([{ executionId: 'e1', summary: summary('e1'), journal: [finished(`init-${w}`)] }])));
    await Promise.all(
      writers.map(async (store, w) => {
        for (let i = 0; i < 20; i++) await store.write([{ executionId: 'e1', journal: [finished(`w${w}-${i}`), started(`w${w}-${i}-b`)] }]);
      }),
    );
    const journal = (await writers[0]?.loadExecution('e1'))?.journal ?? [];
    expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 4 + 4 * 20 * 2 }, (_, i) => i + 1));
    for (let w = 0; w < 4; w++) {
      const mine = journal.filter((e) => e.kind === 'step_finished' && e.record.stepId.startsWith(`w${w}-`));
      // Each writer's entries keep their order, and the pair of one write stays adjacent.
      expect(mine.map((e) => (e.kind === 'step_finished' ? e.record.stepId : ''))).toEqual(Array.from({ length: 20 }, (_, i) => `w${w}-${i}`));
      for (const entry of mine) expect(journal[entry.seq]).toMatchObject({ kind: 'step_started', stepId: `${entry.kind === 'step_finished' ? entry.record.stepId : ''}-b` });
    }
  });

  it('writes in one statement while its view of the execution holds, and takes the locking path once another process wrote', async () => {
    const schema = uniqueSchema('optim');
    const [a, b] = [open(schema), open(schema)] as const;
    await a.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    await a.write([{ executionId: 'e1', journal: [finished('s1')] }]);
    expect(a.stats()).toEqual({ optimistic: 1, solo: 1, locked: 1 });
    // b has not read e1: locking path; then its own view holds.
    await b.write([{ executionId: 'e1', summary: summary('e1', { status: 'paused' }), journal: [started('s2')] }]);
    await b.write([{ executionId: 'e1', journal: [finished('s2')], checkpoints: [makeCheckpoint('e1')], keepCheckpoints: 1 }]);
    expect(b.stats()).toEqual({ optimistic: 1, solo: 1, locked: 1 });
    // a's view is stale now (no journal entry to collide on: only the version tells): its optimistic
    // statement aborts whole, and the locking path prunes and positions the checkpoint right.
    const late = makeCheckpoint('e1', 'late');
    await a.write([{ executionId: 'e1', summary: summary('e1', { status: 'running' }), checkpoints: [late], keepCheckpoints: 1 }]);
    expect(a.stats()).toEqual({ optimistic: 1, solo: 1, locked: 2 });
    await a.write([{ executionId: 'e1', journal: [started('s3')] }]);
    expect(a.stats()).toEqual({ optimistic: 2, solo: 2, locked: 2 });
    const stored = await b.loadExecution('e1');
    expect(stored?.journal.map((e) => `${e.seq}:${e.kind}`)).toEqual(['1:step_started', '2:step_finished', '3:step_started', '4:step_finished', '5:step_started']);
    expect(stored?.summary.status).toBe('running');
    expect(stored?.checkpoints.map((c) => [c.checkpoint.description, c.journalSeq])).toEqual([['late', 4]]);
    // b read it just now: its next write is optimistic again.
    await b.write([{ executionId: 'e1', journal: [statusEntry('completed')] }]);
    expect(b.stats()).toEqual({ optimistic: 2, solo: 2, locked: 1 });
  });

  it('commits the writes made in one turn together: four writes in two turns are two transactions', async () => {
    const store = open(uniqueSchema('group'));
    for (const id of ['a', 'b', 'c', 'd']) await store.write([{ executionId: id, summary: summary(id) }]);
    const before = store.stats();
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    const sameTurn = ['a', 'b'].map((id) => store.write([{ executionId: id, journal: [started('s1')] }]));
    // Nothing is sent inside the call: the turn's other writes may still come.
    const sentInsideTheCall = queries.mock.calls.length;
    // The next turn: the first transaction is on the wire (or back); these two go out together after it.
    await new Promise((resolve) => setImmediate(resolve));
    const whileUnderWay = ['c', 'd'].map((id) => store.write([{ executionId: id, journal: [started('s1')] }]));
    await Promise.all([...sameTurn, ...whileUnderWay]);
    queries.mockRestore();
    expect(sentInsideTheCall).toBe(0);
    expect(store.stats().optimistic - before.optimistic).toBe(2);
    for (const id of ['a', 'b', 'c', 'd']) expect((await store.loadExecution(id))?.journal.map((e) => e.kind)).toEqual(['step_started']);
  });

  it('a refused write of a group fails alone, naming its own batch, and the others commit', async () => {
    const store = open(uniqueSchema('group'));
    await store.write([{ executionId: 'a', summary: summary('a') }]);
    const results = await Promise.allSettled([
      store.write([{ executionId: 'a', journal: [started('s1')] }]),
      store.write([{ executionId: 'ghost', journal: [started('x')] }]),
      store.write([{ executionId: 'a', journal: [finished('s1')], checkpoints: [makeCheckpoint('a')] }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'batches[0].summary' } });
    const loaded = await store.loadExecution('a');
    expect(loaded?.journal.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'step_started'],
      [2, 'step_finished'],
    ]);
    expect(loaded?.checkpoints.map((c) => c.journalSeq)).toEqual([2]);
    expect(await store.loadExecution('ghost')).toBeNull();
  });

  it('refuses a fenced write once the lease is someone else’s, and writes nothing of it', async () => {
    const schema = uniqueSchema('fence');
    const store = open(schema);
    await store.write([{ executionId: 'e1', summary: summary('e1') }]);
    await sql(`INSERT INTO "${schema}".queue (execution_id, pipeline_id, input, status, owner, attempts) VALUES ('e1', 'p', 'null', 'running', 'w1', 1)`);
    await store.writeFenced([{ executionId: 'e1', journal: [started('s1')] }], [{ executionId: 'e1', owner: 'w1', attempt: 1 }]);
    const stale = [
      { executionId: 'e1', owner: 'w1', attempt: 0 },
      { executionId: 'e1', owner: 'w2', attempt: 1 },
    ];
    for (const fence of stale) {
      const error = await rejection(store.writeFenced([{ executionId: 'e1', journal: [finished('s1')] }], [fence]));
      expect(error).toMatchObject({ code: ErrorCode.LeaseLost, details: { executionId: 'e1', reason: 'lease_lost' } });
    }
    expect((await store.loadExecution('e1'))?.journal.map((e) => e.kind)).toEqual(['step_started']);
  });
});

describePg('postgres store: failures', () => {
  it('reports unreadable rows as STORE_CORRUPT naming the table and row', async () => {
    const schema = uniqueSchema('corrupt');
    const store = open(schema);
    const checkpoint = makeCheckpoint('e1');
    await store.write([{ executionId: 'e1', summary: summary('e1'), journal: [statusEntry('running'), started('s1')], checkpoints: [checkpoint] }]);
    await sql(`UPDATE "${schema}".journal SET payload = '{oops' WHERE seq = 2`);
    expect(await rejection(store.loadExecution('e1'))).toMatchObject({ code: ErrorCode.StoreCorrupt, details: { executionId: 'e1', where: 'table journal, row seq 2' } });
    await sql(`UPDATE "${schema}".journal SET payload = $1 WHERE seq = 2`, [JSON.stringify(statusEntry('running'))]);
    expect(await rejection(store.loadExecution('e1'))).toMatchObject({ code: ErrorCode.StoreCorrupt, details: { where: 'table journal, row seq 2' } });
    await sql(`UPDATE "${schema}".journal SET kind = 'status' WHERE seq = 2`);
    await sql(`UPDATE "${schema}".checkpoints SET record = '{"id": 1}'`);
    expect(await rejection(store.getCheckpoint('e1', checkpoint.id))).toMatchObject({ code: ErrorCode.StoreCorrupt, details: { where: `table checkpoints, row "${checkpoint.id}"` } });
    await sql(`UPDATE "${schema}".executions SET metadata = 'not json', status = 'sleeping'`);
    expect(await rejection(store.listExecutions())).toMatchObject({ code: ErrorCode.StoreCorrupt, details: { where: 'table executions, row "e1"' } });
  });

  it('fails with a retryable STORE_ERROR carrying the pg error when the server is unreachable', async () => {
    const dead = open('x', { connectionString: 'postgres://postgres@127.0.0.1:1/postgres', retryWindowMs: 0 });
    const error = await rejection(dead.loadExecution('e1'));
    expect(error).toMatchObject({ code: ErrorCode.StoreError, retryable: true, details: { schema: 'x', storageCode: 'ECONNREFUSED' } });
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
    const patient = open('x', { connectionString: 'postgres://postgres@127.0.0.1:1/postgres', retryWindowMs: 300 });
    const started = Date.now();
    await expect(patient.write([{ executionId: 'e1', summary: summary('e1') }])).rejects.toMatchObject({ code: ErrorCode.StoreError, retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('fails a statement error as a non-retryable STORE_ERROR', async () => {
    const schema = uniqueSchema('broken');
    const store = open(schema);
    await store.ready();
    await sql(`ALTER TABLE "${schema}".journal ADD CONSTRAINT tiny CHECK (length(payload) < 10)`);
    await store.write([{ executionId: 'e1', summary: summary('e1') }]);
    const error = await rejection(store.write([{ executionId: 'e1', journal: [started('s1')] }]));
    expect(error).toMatchObject({ code: ErrorCode.StoreError, retryable: false, details: { storageCode: '23514' } });
    expect((await store.loadExecution('e1'))?.journal).toEqual([]);
  });

  it('commits what was accepted before close, then refuses everything; a pool passed in stays open', async () => {
    const schema = uniqueSchema('close');
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const store = createPostgresStore({ pool, schema });
    const pending = store.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    await store.close();
    await pending;
    await store.close();
    await expect(store.loadExecution('e1')).rejects.toMatchObject({ code: ErrorCode.InvalidState });
    await expect(store.write([{ executionId: 'e1', journal: [started('s2')] }])).rejects.toMatchObject({ code: ErrorCode.InvalidState });
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".journal`)).rows).toEqual([{ n: 1 }]);
    await pool.end();
  });
});

describePg('postgres store: executions', () => {
  it('resumes through openExecution: completed steps are not run again and their outputs come back', async () => {
    const schema = uniqueSchema('resume');
    const first = await openExecution({ executionId: 'run-1', pipelineId: 'etl', store: open(schema) });
    first.startExecution(3);
    const calls: string[] = [];
    for (const id of ['extract', 'transform']) {
      await first.executeStepWithRecovery(id, id, () => {
        calls.push(id);
        return { from: id };
      });
    }
    // The process "dies" here: nothing is flushed or shut down.
    const second = await openExecution({ executionId: 'run-1', pipelineId: 'etl', store: open(schema) });
    for (const id of ['extract', 'transform', 'load']) {
      expect(
        await second.executeStepWithRecovery(id, id, () => {
          calls.push(id);
          return { from: id };
        }),
      ).toBe(true);
    }
    second.completeExecution(true);
    await second.shutdown();
    expect(calls).toEqual(['extract', 'transform', 'load']);
    expect(second.getStepOutput('extract')).toEqual({ from: 'extract' });
    const stored = await open(schema).loadExecution('run-1');
    expect(stored?.summary.status).toBe('completed');
    expect(stored?.journal.filter((e) => e.kind === 'step_finished')).toHaveLength(3);
  });
});
