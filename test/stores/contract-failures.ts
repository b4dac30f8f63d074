/**
 * The contract's refusals: a write with one bad batch writes nothing of the
 * call, bad arguments are INVALID_INPUT naming the field, a closed store
 * refuses everything.
 */
import { expect, it } from 'vitest';
import type { Checkpoint } from '../../src/services/context/index.js';
import type { StoreBatch, StoredExecution } from '../../src/stores/index.js';
import type { ContractContext } from './contract.js';
import { ErrorCode, finished, makeCheckpoint, started, summary, thrownBy } from './fixtures.js';

/** Registers the failure cases of the contract. */
export function describeFailures(ctx: ContractContext): void {
  /** Writes a known state, runs a failing write, and checks that nothing of it landed. */
  const expectNothingWritten = (bad: StoreBatch[], expected: { code: string; field: string }): void => {
    const kept = makeCheckpoint('a', 'kept');
    ctx.sync.write([{ executionId: 'a', summary: summary('a'), journal: [started('s1')], checkpoints: [kept] }]);
    const before: (StoredExecution | null)[] = ['a', 'b', 'c'].map((id) => ctx.sync.loadExecution(id));
    const listed = ctx.sync.listExecutions();
    const error = thrownBy(() => {
      ctx.sync.write(bad);
    });
    expect(error).toMatchObject({ code: expected.code, details: { field: expected.field } });
    expect(error.message).toContain(expected.field);
    expect(['a', 'b', 'c'].map((id) => ctx.sync.loadExecution(id))).toEqual(before);
    expect(ctx.sync.listExecutions()).toEqual(listed);
    // And the store still takes a good write, numbering on from before.
    ctx.sync.write([{ executionId: 'a', journal: [finished('s1')] }]);
    const seqs = ctx.sync.loadExecution('a')?.journal.map((e) => e.seq);
    const count = (before[0]?.journal.length ?? 0) + 1;
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  };

  it('writes nothing of a call when a later batch holds a non-finite number', () => {
    expectNothingWritten(
      [
        { executionId: 'a', journal: [finished('s1')] },
        { executionId: 'b', summary: summary('b'), journal: [finished('s2', { total: Number.NaN })] },
      ],
      { code: ErrorCode.InvalidInput, field: 'batches[1].journal[0].output.total' },
    );
  });

  it('refuses prototype keys anywhere in a batch', () => {
    const polluted = JSON.parse('{"__proto__": {"admin": true}}') as Record<string, never>;
    expectNothingWritten(
      [
        { executionId: 'b', summary: summary('b') },
        { executionId: 'a', summary: summary('a', { metadata: polluted }) },
      ],
      { code: ErrorCode.InvalidInput, field: 'batches[1].summary.metadata.__proto__' },
    );
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses a batch of an execution it does not have unless it carries the summary', () => {
    expectNothingWritten(
      [
        { executionId: 'a', journal: [finished('s1')] },
        { executionId: 'c', journal: [started('x')] },
      ],
      { code: ErrorCode.InvalidInput, field: 'batches[1].summary' },
    );
  });

  it('refuses a summary or checkpoint of another execution than its batch', () => {
    expectNothingWritten([{ executionId: 'b', summary: summary('c') }], { code: ErrorCode.InvalidInput, field: 'batches[0].summary.executionId' });
    expectNothingWritten([{ executionId: 'a', checkpoints: [makeCheckpoint('c')] }], {
      code: ErrorCode.InvalidInput,
      field: 'batches[0].checkpoints[0].executionId',
    });
  });

  it('refuses a checkpoint id it already has, or one given twice', () => {
    const stored = makeCheckpoint('a', 'stored');
    ctx.sync.write([{ executionId: 'a', summary: summary('a'), checkpoints: [stored] }]);
    expectNothingWritten([{ executionId: 'a', journal: [started('s2')], checkpoints: [stored] }], {
      code: ErrorCode.InvalidInput,
      field: 'batches[0].checkpoints[0].id',
    });
    const twice = makeCheckpoint('b');
    expectNothingWritten(
      [
        { executionId: 'b', summary: summary('b'), checkpoints: [twice] },
        { executionId: 'b', checkpoints: [twice] },
      ],
      { code: ErrorCode.InvalidInput, field: 'batches[1].checkpoints[0].id' },
    );
  });

  it('refuses a checkpoint of a newer format with CHECKPOINT_INCOMPATIBLE', () => {
    const newer = { ...makeCheckpoint('a'), formatVersion: 2 } as unknown as Checkpoint;
    expectNothingWritten([{ executionId: 'a', journal: [started('s2')], checkpoints: [newer] }], {
      code: ErrorCode.CheckpointIncompatible,
      field: 'batches[0].checkpoints[0].formatVersion',
    });
  });

  it('refuses malformed entries, summaries and options with the field named', () => {
    const cases: [unknown, string][] = [
      [[{ executionId: '', summary: summary('') }], 'batches[0].executionId'],
      [[{ executionId: 'a', journal: [{ kind: 'exploded', at: '2026-01-01T00:00:00Z' }] }], 'batches[0].journal[0].kind'],
      [[{ executionId: 'a', journal: [{ ...started('s'), attempt: 0 }] }], 'batches[0].journal[0].attempt'],
      [[{ executionId: 'a', journal: [{ ...started('s'), extra: 1 }] }], 'batches[0].journal[0]'],
      [[{ executionId: 'a', summary: { ...summary('a'), status: 'sleeping' } }], 'batches[0].summary.status'],
      [[{ executionId: 'a', keepCheckpoints: -1 }], 'batches[0].keepCheckpoints'],
      [[{ executionId: 'a', journal: [finished('s1', { when: new Date(0) } as never)] }], 'batches[0].journal[0].output.when'],
      [[{ executionId: 'a', journal: [finished('s1', { gone: undefined } as never)] }], 'batches[0].journal[0].output.gone'],
      ['not an array', 'batches'],
    ];
    ctx.sync.write([{ executionId: 'a', summary: summary('a') }]);
    for (const [batches, field] of cases) {
      const error = thrownBy(() => {
        ctx.sync.write(batches as StoreBatch[]);
      });
      expect(error, field).toMatchObject({ code: ErrorCode.InvalidInput, details: { field } });
    }
    expect(ctx.sync.loadExecution('a')?.journal).toEqual([]);
  });

  it('refuses empty ids on reads', () => {
    expect(thrownBy(() => ctx.sync.loadExecution(''))).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'executionId' } });
    expect(thrownBy(() => ctx.sync.getCheckpoint('a', ''))).toMatchObject({ details: { field: 'checkpointId' } });
    expect(thrownBy(() => ctx.sync.listCheckpoints(7 as never))).toMatchObject({ details: { field: 'executionId' } });
  });

  it('refuses every call once closed, and closes twice without complaint', async () => {
    ctx.sync.write([{ executionId: 'a', summary: summary('a') }]);
    await ctx.store.close();
    await ctx.store.close();
    expect(thrownBy(() => ctx.sync.loadExecution('a'))).toMatchObject({ code: ErrorCode.InvalidState });
    expect(thrownBy(() => ctx.sync.listExecutions())).toMatchObject({ code: ErrorCode.InvalidState });
    await expect(ctx.store.write([{ executionId: 'a', journal: [started('s')] }])).rejects.toMatchObject({ code: ErrorCode.InvalidState });
    await expect(ctx.store.listCheckpoints('a')).rejects.toMatchObject({ code: ErrorCode.InvalidState });
  });
}
