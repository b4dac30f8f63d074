/**
 * The execution actor learns that a step finished from the step actor's done
 * event (`xstate.done.actor.<stepId>`, carrying the step machine's output).
 * A done event for any id that is not an active step must change nothing:
 * the models only ever produce done events of live steps.
 */
import { describe, expect, it } from 'vitest';
import { createActor, type EventObject } from 'xstate';
import { createExecutionLogic } from '../../src/actors/step-logic.js';
import type { StepFinished } from '../../src/machines/machine-types.js';
import { EXECUTION_INPUT, OUTSIDE_RECORD } from './execution-model.js';
import { flush } from './fixtures.js';
import { createScriptedRuntime } from './runtime.js';

function startExecution() {
  const runtime = createScriptedRuntime();
  const actor = createActor(createExecutionLogic(runtime), { input: EXECUTION_INPUT, clock: runtime.clock });
  const errors: unknown[] = [];
  const emitted: EventObject[] = [];
  actor.subscribe({ error: (error: unknown) => errors.push(error) });
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  actor.send({ type: 'EXECUTION.START', totalSteps: 2 });
  return { actor, errors, emitted };
}

const stray = (stepId: string): { type: `xstate.done.actor.${string}`; output: StepFinished } => ({
  type: `xstate.done.actor.${stepId}`,
  output: { record: { ...OUTSIDE_RECORD, stepId }, output: 'stray' },
});

describe('done events of steps', () => {
  it('a manual step finishes through its done event: one step.finished, its actor stopped', async () => {
    const { actor, errors, emitted } = startExecution();
    actor.send({ type: 'STEP.START', stepId: 'b', stepName: 'Review', mode: 'manual' });
    // Spawned steps run at once: no STEP.RUN is needed.
    expect(actor.getSnapshot().children.b?.getSnapshot().value).toEqual({ running: 'awaitingResult' });
    actor.send({ type: 'STEP.COMPLETE', stepId: 'b', output: { approved: true } });
    await flush();
    expect(emitted).toEqual([
      {
        type: 'step.finished',
        record: expect.objectContaining({ stepId: 'b', status: 'completed', attempts: 1 }) as unknown,
        output: { approved: true },
      },
    ]);
    const { context, children } = actor.getSnapshot();
    expect(context.active).toEqual({});
    expect(context.counts).toMatchObject({ started: 1, completed: 1 });
    expect(Object.keys(children)).toEqual([]);
    expect(errors).toEqual([]);
    actor.stop();
  });

  it.each(['running', 'paused'] as const)('ignores done events of unknown or finished steps while %s', async (state) => {
    const { actor, errors, emitted } = startExecution();
    actor.send({ type: 'STEP.START', stepId: 'b', stepName: 'Review', mode: 'manual' });
    actor.send({ type: 'STEP.COMPLETE', stepId: 'b' });
    actor.send({ type: 'STEP.START', stepId: 'a', stepName: 'Extract', mode: 'executor' });
    if (state === 'paused') actor.send({ type: 'EXECUTION.PAUSE' });
    await flush();
    emitted.length = 0;
    const before = actor.getSnapshot();

    actor.send(stray('ghost'));
    actor.send(stray('b'));
    await flush();

    const after = actor.getSnapshot();
    expect(after.value).toEqual(before.value);
    expect(after.context).toEqual(before.context);
    expect(Object.keys(after.children)).toEqual(['a']);
    expect(after.children.a?.getSnapshot().status).toBe('active');
    expect(emitted).toEqual([]);
    expect(errors).toEqual([]);
    actor.stop();
  });
});
