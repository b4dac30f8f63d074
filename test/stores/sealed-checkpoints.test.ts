/**
 * Checkpoints an ExecutionContext builds are sealed (frozen, vouched for) and
 * not parsed again by the stores; anything else still is.
 */
import { describe, expect, it } from 'vitest';
import { isSealedCheckpoint } from '../../src/services/context/checkpoint.js';
import { createMemoryStore, createSqliteStore } from '../../src/stores/index.js';
import { ErrorCode, makeCheckpoint, summary, syncOf, tempDir, thrownBy } from './fixtures.js';

const stores = {
  memory: () => createMemoryStore(),
  sqlite: () => createSqliteStore({ filename: `${tempDir().dir}/sealed.db` }),
};

describe.each(Object.entries(stores))('sealed checkpoints on the %s store', (_name, create) => {
  it('a checkpoint made by a context is sealed: frozen all the way down, and written and read back as it is', async () => {
    const store = create();
    const checkpoint = makeCheckpoint('a');
    expect(isSealedCheckpoint(checkpoint)).toBe(true);
    expect(() => {
      (checkpoint.metrics as { stepsTotal: number }).stepsTotal = 99;
    }).toThrow(TypeError);
    syncOf(store).write([{ executionId: 'a', summary: summary('a'), checkpoints: [checkpoint] }]);
    const stored = syncOf(store).getCheckpoint('a', checkpoint.id);
    expect(stored?.checkpoint).toEqual(JSON.parse(JSON.stringify(checkpoint)));
    await store.close();
  });

  it('a copy of a sealed checkpoint is not sealed, so a bad field in it is refused and nothing is written', async () => {
    const store = create();
    const copy = { ...makeCheckpoint('a'), metrics: { stepsTotal: 'three' } };
    expect(isSealedCheckpoint(copy)).toBe(false);
    const error = thrownBy(() => {
      syncOf(store).write([{ executionId: 'a', summary: summary('a'), checkpoints: [copy as never] }]);
    });
    expect(error).toMatchObject({ code: ErrorCode.InvalidInput });
    expect(error.message).toContain('checkpoints[0].metrics');
    expect(syncOf(store).loadExecution('a')).toBeNull();
    await store.close();
  });

  it("a sealed checkpoint of another execution is refused all the same", async () => {
    const store = create();
    const error = thrownBy(() => {
      syncOf(store).write([{ executionId: 'b', summary: summary('b'), checkpoints: [makeCheckpoint('a')] }]);
    });
    expect(error).toMatchObject({ code: ErrorCode.InvalidInput });
    expect(error.message).toContain('batches[0].checkpoints[0].executionId');
    expect(syncOf(store).loadExecution('b')).toBeNull();
    await store.close();
  });
});
