/**
 * The execution actor keeps the attempt and retries of each step in flight,
 * so the records it builds itself (steps cut short by the end of the
 * execution) tell how far they got. A snapshot persisted before those fields
 * existed still restores, and its steps read as attempt 0.
 */
import { describe, expect, it } from 'vitest';
import { createActor, type EventObject } from 'xstate';
import { createExecutionLogic } from '../../src/actors/step-logic.js';
import { EXECUTION_INPUT } from './execution-model.js';
import { flush } from './fixtures.js';
import { createScriptedRuntime } from './runtime.js';

type Persisted = { context: { active: Record<string, Record<string, unknown>> } } & Record<string, unknown>;

function startActor(snapshot?: Persisted) {
  const runtime = createScriptedRuntime();
  const actor = createActor(createExecutionLogic(runtime), {
    input: EXECUTION_INPUT,
    clock: runtime.clock,
    ...(snapshot === undefined ? {} : { snapshot: snapshot as never }),
  });
  const errors: unknown[] = [];
  const emitted: EventObject[] = [];
  actor.subscribe({ error: (error: unknown) => errors.push(error) });
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  return { actor, errors, emitted };
}

describe('attempts of the steps in flight', () => {
  it('a manual step is on attempt 1 while active and is cancelled with attempts 1', async () => {
    const { actor, errors, emitted } = startActor();
    actor.send({ type: 'EXECUTION.START', totalSteps: 1 });
    actor.send({ type: 'STEP.START', stepId: 'b', stepName: 'Review', mode: 'manual' });
    expect(actor.getSnapshot().context.active).toEqual({ b: { stepName: 'Review', mode: 'manual', attempt: 1, retries: 0 } });

    actor.send({ type: 'EXECUTION.CANCEL', reason: 'stop' });
    await flush();

    expect(emitted).toEqual([
      {
        type: 'step.finished',
        record: expect.objectContaining({ stepId: 'b', status: 'cancelled', attempts: 1, retries: 0, reason: 'stop' }) as unknown,
        output: undefined,
      },
    ]);
    expect(errors).toEqual([]);
  });

  it('a step started on a later attempt (a resumed run) starts counting from it', () => {
    const { actor } = startActor();
    actor.send({ type: 'EXECUTION.START', totalSteps: 1 });
    actor.send({ type: 'STEP.START', stepId: 'b', stepName: 'Review', mode: 'manual', attempt: 4 });
    expect(actor.getSnapshot().context.active.b).toMatchObject({ attempt: 4, retries: 0 });
    actor.stop();
  });

  it('a snapshot persisted without attempt/retries restores, and its cut-short step reads attempts 0', async () => {
    const first = startActor();
    first.actor.send({ type: 'EXECUTION.START', totalSteps: 1 });
    first.actor.send({ type: 'STEP.START', stepId: 'b', stepName: 'Review', mode: 'manual' });
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as Persisted;
    first.actor.stop();
    // The shape of ActiveStep before it tracked attempts.
    persisted.context.active = { b: { stepName: 'Review', mode: 'manual' } };

    const { actor, errors, emitted } = startActor(persisted);
    expect(actor.getSnapshot().context.active).toEqual({ b: { stepName: 'Review', mode: 'manual' } });
    actor.send({ type: 'EXECUTION.COMPLETE', success: true });
    await flush();

    expect(actor.getSnapshot().value).toBe('completed');
    expect(emitted).toEqual([
      {
        type: 'step.finished',
        record: expect.objectContaining({ stepId: 'b', status: 'cancelled', attempts: 0, retries: 0 }) as unknown,
        output: undefined,
      },
    ]);
    expect(errors).toEqual([]);
  });
});
