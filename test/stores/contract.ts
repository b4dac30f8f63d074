/**
 * The store contract: one suite, run against every store by
 * contract.test.ts. A store passes when it behaves exactly like the others.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointStore, JournalEntry, StoreBatch, SyncStoreApi } from '../../src/stores/index.js';
import { describeFailures } from './contract-failures.js';
import { ErrorCode, everyKind, finished, iso, makeCheckpoint, started, statusEntry, summary, syncOf, tempDir, thrownBy } from './fixtures.js';

/** How the suite gets a store: a fresh one in `dir`, and (for durable stores) the same data opened again. */
export interface StoreFactories {
  /** Opens the store over the data that `factory(dir)` left in `dir` (after `close`). */
  reopen?: (dir: string) => CheckpointStore;
}

/** The per-test state the cases share. */
export interface ContractContext {
  store: CheckpointStore;
  sync: SyncStoreApi;
  dir: string;
  /** Closes the store and opens it again on the same data (durable stores). */
  reopen: (() => Promise<void>) | undefined;
}

/**
 * Registers the contract suite for one store.
 *
 * @param factory - makes an empty store keeping its data in the fresh temporary `dir`.
 */
export function describeStore(name: string, factory: (dir: string) => CheckpointStore, options: StoreFactories = {}): void {
  describe(`store contract: ${name}`, () => {
    const ctx = {} as ContractContext;
    let remove: () => void = () => undefined;
    beforeEach(() => {
      const temp = tempDir(`contract-${name.replace(/\W+/g, '-')}-`);
      remove = temp.remove;
      ctx.dir = temp.dir;
      ctx.store = factory(temp.dir);
      ctx.sync = syncOf(ctx.store);
      const reopen = options.reopen;
      ctx.reopen =
        reopen === undefined
          ? undefined
          : async () => {
              await ctx.store.close();
              ctx.store = reopen(ctx.dir);
              ctx.sync = syncOf(ctx.store);
            };
    });
    afterEach(async () => {
      await ctx.store.close();
      remove();
    });

    describeSummariesAndJournal(ctx);
    describeCheckpoints(ctx);
    describeListing(ctx);
    describeFailures(ctx);
  });
}

function describeSummariesAndJournal(ctx: ContractContext): void {
  it('inserts a summary, and an upsert replaces it but keeps createdAt', () => {
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1', { createdAt: iso(0), updatedAt: iso(0) }) }]);
    const replacement = summary('e1', {
      status: 'completed',
      createdAt: iso(500),
      updatedAt: iso(60),
      definitionHash: 'sha256:abc',
      metadata: { module: 'b.js' },
    });
    ctx.sync.write([{ executionId: 'e1', summary: replacement }]);
    expect(ctx.sync.loadExecution('e1')?.summary).toEqual({ ...replacement, createdAt: iso(0) });
  });

  it('numbers journal entries 1..n across batches, independently per execution', () => {
    ctx.sync.write([
      { executionId: 'a', summary: summary('a'), journal: [statusEntry('running'), started('s1')] },
      { executionId: 'b', summary: summary('b'), journal: [statusEntry('running')] },
    ]);
    ctx.sync.write([{ executionId: 'a', journal: [finished('s1')] }, { executionId: 'b', journal: [started('x'), finished('x')] }]);
    ctx.sync.write([{ executionId: 'a', journal: everyKind() }]);
    const a = ctx.sync.loadExecution('a');
    const b = ctx.sync.loadExecution('b');
    expect(a?.journal.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a?.journal.slice(3).map(({ seq: _seq, ...entry }) => entry)).toEqual(everyKind());
    expect(b?.journal).toEqual([
      { ...statusEntry('running'), seq: 1 },
      { ...started('x'), seq: 2 },
      { ...finished('x'), seq: 3 },
    ]);
  });

  it('keeps any split of entries into batches as one numbered journal (property)', () => {
    let run = 0;
    const entry = fc.oneof(
      fc.constantFrom(...everyKind()),
      fc.record({ step: fc.string({ minLength: 1, maxLength: 8 }), n: fc.integer() }).map(({ step, n }) => finished(step, { n })),
    );
    const writes = fc.array(fc.record({ target: fc.constantFrom(0, 1), entries: fc.array(entry, { maxLength: 4 }) }), { maxLength: 8 });
    fc.assert(
      fc.property(writes, (plan) => {
        run += 1;
        const ids = [`p${run}-x`, `p${run}-y`];
        const expected: JournalEntry[][] = [[], []];
        ctx.sync.write(ids.map((id) => ({ executionId: id, summary: summary(id) })));
        for (const { target, entries } of plan) {
          const id = ids[target] ?? '';
          ctx.sync.write([{ executionId: id, journal: entries }]);
          expected[target]?.push(...entries);
        }
        ids.forEach((id, index) => {
          const journal = ctx.sync.loadExecution(id)?.journal ?? [];
          expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
          expect(journal.map(({ seq: _seq, ...e }) => e)).toEqual(expected[index]);
        });
      }),
      { numRuns: 15 },
    );
  });

  it('answers null and empty lists for an execution it does not have', () => {
    expect(ctx.sync.loadExecution('nope')).toBeNull();
    expect(ctx.sync.getCheckpoint('nope', 'cp')).toBeNull();
    expect(ctx.sync.listCheckpoints('nope')).toEqual([]);
    expect(ctx.sync.listExecutions()).toEqual([]);
  });

  it('keeps its data through close and reopen, and goes on numbering', async () => {
    if (ctx.reopen === undefined) return;
    const checkpoint = makeCheckpoint('e1');
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1'), journal: everyKind(), checkpoints: [checkpoint] }]);
    const before = ctx.sync.loadExecution('e1');
    await ctx.reopen();
    expect(ctx.sync.loadExecution('e1')).toEqual(before);
    expect(ctx.sync.listExecutions()).toEqual([summary('e1')]);
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1', { createdAt: iso(99), status: 'paused' }), journal: [statusEntry('paused')] }]);
    const after = ctx.sync.loadExecution('e1');
    expect(after?.journal.at(-1)).toEqual({ ...statusEntry('paused'), seq: everyKind().length + 1 });
    expect(after?.summary.createdAt).toBe(iso(0));
    expect(ctx.sync.getCheckpoint('e1', checkpoint.id)?.checkpoint).toEqual(checkpoint);
  });

  it('hands out copies and keeps its own: mutating either side changes nothing', () => {
    const batch = { executionId: 'e1', summary: summary('e1'), journal: [finished('s1', { rows: [1, 2] })] } satisfies StoreBatch;
    ctx.sync.write([batch]);
    batch.summary.metadata.module = 'changed';
    const output = (batch.journal[0] as unknown as { output: { rows: number[] } }).output;
    output.rows.push(3);
    const loaded = ctx.sync.loadExecution('e1');
    expect(loaded?.summary.metadata.module).toBe('./pipelines/a.js');
    expect(loaded?.journal[0]).toEqual({ ...finished('s1', { rows: [1, 2] }), seq: 1 });
    if (loaded === null) throw new Error('missing');
    loaded.summary.status = 'failed';
    loaded.journal.pop();
    (ctx.sync.listExecutions()[0] as { status: string }).status = 'failed';
    expect(ctx.sync.loadExecution('e1')?.summary.status).toBe('running');
    expect(ctx.sync.loadExecution('e1')?.journal).toHaveLength(1);
    expect(ctx.sync.listExecutions()[0]?.status).toBe('running');
  });

  it('answers the same through the sync and the async face', async () => {
    const checkpoint = makeCheckpoint('e1');
    await ctx.store.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')], checkpoints: [checkpoint] }]);
    ctx.sync.write([{ executionId: 'e2', summary: summary('e2', { updatedAt: iso(5) }), journal: [finished('s1')] }]);
    expect(await ctx.store.loadExecution('e1')).toEqual(ctx.sync.loadExecution('e1'));
    expect(await ctx.store.loadExecution('e2')).toEqual(ctx.sync.loadExecution('e2'));
    expect(await ctx.store.listExecutions({ limit: 1 })).toEqual(ctx.sync.listExecutions({ limit: 1 }));
    expect(await ctx.store.listCheckpoints('e1')).toEqual(ctx.sync.listCheckpoints('e1'));
    expect(await ctx.store.getCheckpoint('e1', checkpoint.id)).toEqual(ctx.sync.getCheckpoint('e1', checkpoint.id));
    expect(ctx.sync.loadExecution('e1')?.journal).toEqual([{ ...started('s1'), seq: 1 }]);
    // The async face rejects (it does not throw) and has written nothing.
    const rejected = ctx.store.write([{ executionId: 'e1', journal: [{ kind: 'status', status: 'running', at: 'yesterday' }] }]);
    await expect(rejected).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'batches[0].journal[0].at' } });
    expect(ctx.sync.loadExecution('e1')?.journal).toHaveLength(1);
  });
}

function describeCheckpoints(ctx: ContractContext): void {
  it('stores checkpoints with the journal position after their batch', () => {
    const first = makeCheckpoint('e1', 'first');
    const second = makeCheckpoint('e1', null);
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [first] }]);
    ctx.sync.write([{ executionId: 'e1', journal: [started('s1'), finished('s1')], checkpoints: [second] }]);
    expect(ctx.sync.getCheckpoint('e1', first.id)).toEqual({ checkpoint: first, journalSeq: 0 });
    expect(ctx.sync.getCheckpoint('e1', second.id)).toEqual({ checkpoint: second, journalSeq: 2 });
    expect(ctx.sync.listCheckpoints('e1')).toEqual([
      { id: first.id, executionId: 'e1', createdAt: first.createdAt, description: 'first', journalSeq: 0 },
      { id: second.id, executionId: 'e1', createdAt: second.createdAt, description: null, journalSeq: 2 },
    ]);
    expect(ctx.sync.loadExecution('e1')?.checkpoints).toEqual([
      { checkpoint: first, journalSeq: 0 },
      { checkpoint: second, journalSeq: 2 },
    ]);
  });

  it('finds a checkpoint only under its own execution', () => {
    const checkpoint = makeCheckpoint('e1');
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [checkpoint] }, { executionId: 'e2', summary: summary('e2') }]);
    expect(ctx.sync.getCheckpoint('e2', checkpoint.id)).toBeNull();
    expect(ctx.sync.getCheckpoint('e1', 'unknown')).toBeNull();
    expect(ctx.sync.listCheckpoints('e2')).toEqual([]);
  });

  it('prunes the oldest checkpoints to keepCheckpoints, in the same and in later batches', () => {
    const checkpoints = [1, 2, 3, 4, 5].map((n) => makeCheckpoint('e1', `cp${n}`));
    const [c1, c2, c3, c4, c5] = checkpoints;
    ctx.sync.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [c1!, c2!, c3!], keepCheckpoints: 2 }]);
    expect(ctx.sync.listCheckpoints('e1').map((c) => c.description)).toEqual(['cp2', 'cp3']);
    ctx.sync.write([{ executionId: 'e1', checkpoints: [c4!] }, { executionId: 'e1', checkpoints: [c5!], keepCheckpoints: 3 }]);
    expect(ctx.sync.listCheckpoints('e1').map((c) => c.description)).toEqual(['cp3', 'cp4', 'cp5']);
    expect(ctx.sync.getCheckpoint('e1', c2!.id)).toBeNull();
    ctx.sync.write([{ executionId: 'e1', keepCheckpoints: 1 }]);
    expect(ctx.sync.loadExecution('e1')?.checkpoints.map((c) => c.checkpoint.id)).toEqual([c5!.id]);
    ctx.sync.write([{ executionId: 'e1', keepCheckpoints: 0 }]);
    expect(ctx.sync.listCheckpoints('e1')).toEqual([]);
  });
}

function describeListing(ctx: ContractContext): void {
  const seed = (): void => {
    ctx.sync.write([
      { executionId: 'old', summary: summary('old', { status: 'completed', updatedAt: iso(10) }) },
      { executionId: 'mid', summary: summary('mid', { status: 'running', pipelineId: 'pipeline-b', updatedAt: iso(20) }) },
      { executionId: 'new', summary: summary('new', { status: 'running', updatedAt: iso(30) }) },
      { executionId: 'tie-b', summary: summary('tie-b', { status: 'failed', updatedAt: iso(5) }) },
      { executionId: 'tie-a', summary: summary('tie-a', { status: 'failed', updatedAt: iso(5) }) },
    ]);
  };

  it('lists executions newest first (by updatedAt, then id)', () => {
    seed();
    expect(ctx.sync.listExecutions().map((s) => s.executionId)).toEqual(['new', 'mid', 'old', 'tie-a', 'tie-b']);
    expect(ctx.sync.listExecutions()[0]).toEqual(summary('new', { status: 'running', updatedAt: iso(30) }));
  });

  it('filters by status, pipelineId and limit, alone and together', () => {
    seed();
    const ids = (filter: Parameters<SyncStoreApi['listExecutions']>[0]): string[] => ctx.sync.listExecutions(filter).map((s) => s.executionId);
    expect(ids({ status: 'running' })).toEqual(['new', 'mid']);
    expect(ids({ pipelineId: 'pipeline-b' })).toEqual(['mid']);
    expect(ids({ status: 'running', pipelineId: 'pipeline-a' })).toEqual(['new']);
    expect(ids({ limit: 2 })).toEqual(['new', 'mid']);
    expect(ids({ status: 'failed', limit: 1 })).toEqual(['tie-a']);
    expect(ids({ status: 'cancelled' })).toEqual([]);
    expect(ids({ limit: 0 })).toEqual([]);
  });

  it('moves an execution up the list when its summary is updated', () => {
    seed();
    ctx.sync.write([{ executionId: 'old', summary: summary('old', { status: 'running', updatedAt: iso(40) }) }]);
    expect(ctx.sync.listExecutions({ status: 'running' }).map((s) => s.executionId)).toEqual(['old', 'new', 'mid']);
  });

  it('refuses a bad filter with INVALID_INPUT naming the field', () => {
    expect(thrownBy(() => ctx.sync.listExecutions({ limit: -1 }))).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'limit' } });
    expect(thrownBy(() => ctx.sync.listExecutions({ status: 'sleeping' } as never))).toMatchObject({ details: { field: 'status' } });
  });
}

