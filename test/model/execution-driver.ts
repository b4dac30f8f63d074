/**
 * Drives a real execution actor (`createExecutionLogic` on a scripted
 * runtime) with real step children along an execution-model path, and checks
 * after every step that the execution and each live step equal the model,
 * took the same declared transitions, emitted the same events, and keep the
 * invariants; the snapshot round-trips through JSON and restores.
 *
 * @module
 */
import { expect } from 'vitest';
import { createActor, type ActorRefFrom, type EventObject } from 'xstate';
import { createExecutionLogic, createStepLogic } from '../../src/actors/step-logic.js';
import { FAILURES, flush } from './fixtures.js';
import { Recorder } from './inspection.js';
import {
  EXECUTION,
  EXECUTION_INPUT,
  MODEL_STEPS,
  OUTSIDE_RECORD,
  POISON,
  type ExecutionModelEvent,
  type ExecutionSnapshot,
  type SystemState,
  type SystemTrace,
} from './execution-model.js';
import { describePath, type ModelPath } from './paths.js';
import { createRestoreCheck } from './restore.js';
import { createScriptedRuntime, pendingCall, type ScriptedRuntime } from './runtime.js';
import { checkStepInvariants, expectSameState, type InvokeCounts } from './step-checks.js';
import { ALTERNATIVE_OUTPUT, EXECUTOR_OUTPUT } from './step-model.js';

type ExecutionActor = ReturnType<typeof createActor<ReturnType<typeof createExecutionLogic>>>;
type StepActorRef = ActorRefFrom<ReturnType<typeof createStepLogic>>;
type SystemPath = ModelPath<SystemState, ExecutionModelEvent, SystemTrace>;

const STEP_IDS = new Set<string>([...MODEL_STEPS.map((step) => step.stepId), OUTSIDE_RECORD.stepId]);

function label(id: string): string | null {
  return id === EXECUTION || STEP_IDS.has(id) ? id : null;
}

/** Drops `stack` everywhere: the model and the actor throw the same error from different call sites. */
function withoutStacks(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, inner: unknown) => (key === 'stack' ? undefined : inner))) as unknown;
}

/**
 * The step actors that are not stopped. A final execution stops its children
 * but its snapshot still lists them (xstate keeps the refs).
 */
function childrenOf(snapshot: ExecutionSnapshot): Record<string, StepActorRef> {
  const children = snapshot.children as Record<string, StepActorRef>;
  return Object.fromEntries(Object.entries(children).filter(([, child]) => child.getSnapshot().status !== 'stopped'));
}

/** Makes the real actors take the transitions the model event stands for. */
async function realize(actor: ExecutionActor, runtime: ScriptedRuntime, event: ExecutionModelEvent): Promise<void> {
  switch (event.type) {
    case 'EXECUTOR.SETTLE': {
      const call = pendingCall(runtime.executeCalls, event.stepId);
      if (event.outcome === 'ok') {
        call.resolve(EXECUTOR_OUTPUT);
      } else {
        runtime.nextFailure.set(event.stepId, event.outcome === 'poison' ? POISON : FAILURES[event.outcome]);
        call.reject(new Error(`executor of ${event.stepId} failed`));
      }
      break;
    }
    case 'BACKOFF.ELAPSE':
      if (!runtime.clock.runNext()) throw new Error('No backoff timer to fire');
      break;
    case 'ALTERNATIVE.SETTLE': {
      const call = pendingCall(runtime.alternativeCalls, event.stepId);
      if (event.outcome === 'ok') {
        call.resolve(ALTERNATIVE_OUTPUT);
      } else {
        runtime.nextFailure.set(event.stepId, event.outcome === 'poison' ? POISON : FAILURES.alternativeFailed);
        call.reject(new Error(`alternative of ${event.stepId} failed`));
      }
      break;
    }
    default:
      actor.send(event);
  }
  await flush();
}

function consultsPlanner(event: ExecutionModelEvent): boolean {
  return (event.type === 'EXECUTOR.SETTLE' || event.type === 'ALTERNATIVE.SETTLE') && event.outcome !== 'ok';
}

/** The execution and its children equal the model state; the invariants hold. */
function expectSameSystem(
  actor: ExecutionActor,
  expected: SystemState,
  runtime: ScriptedRuntime,
  invoked: Map<string, InvokeCounts>,
  at: string,
): void {
  const real = actor.getSnapshot();
  const { context } = real;
  expect({ value: real.value, status: real.status }, `${at}: execution state`).toEqual({
    value: expected.execution.value,
    status: expected.execution.status,
  });
  expect(context, `${at}: execution context`).toEqual(expected.execution.context);
  const children = childrenOf(real);
  const live = Object.keys(children).sort();
  expect(live, `${at}: live step actors`).toEqual(Object.keys(expected.steps).sort());
  // Invariants of the execution actor.
  expect(live, `${at}: one live child per active step`).toEqual(Object.keys(context.active).sort());
  const { started, completed, failed, skipped, cancelled } = context.counts;
  const finished = completed + failed + skipped + cancelled;
  expect(finished, `${at}: finished <= started`).toBeLessThanOrEqual(started);
  expect(finished + live.length, `${at}: every started step is finished or live`).toBe(started);
  const percentage = started === 0 ? 0 : (100 * finished) / started;
  expect(percentage, `${at}: progress`).toBeGreaterThanOrEqual(0);
  expect(percentage, `${at}: progress`).toBeLessThanOrEqual(100);
  for (const id of context.recovering) expect(live, `${at}: recovering steps are live`).toContain(id);
  if (real.matches('running')) {
    expect(real.matches({ running: 'recovering' }), `${at}: running.recovering iff a step recovers`).toBe(
      context.recovering.length > 0,
    );
  }
  const listed = real.children as Record<string, StepActorRef>;
  if (real.status === 'active') {
    // A finished step's actor is stopped and removed at once: only running steps are children.
    expect(Object.keys(listed).sort(), `${at}: children are the active steps`).toEqual(Object.keys(context.active).sort());
    for (const [stepId, child] of Object.entries(listed)) {
      expect(child.getSnapshot().status, `${at} [${stepId}]: a child step is running`).toBe('active');
    }
  } else {
    for (const [stepId, child] of Object.entries(listed)) {
      expect(child.getSnapshot().status, `${at} [${stepId}]: stopped with the execution`).toBe('stopped');
    }
  }
  for (const [stepId, child] of Object.entries(children)) {
    const model = expected.steps[stepId];
    if (model === undefined) continue;
    const snapshot = child.getSnapshot();
    expectSameState(snapshot, model, `${at} [${stepId}]`);
    expect(context.recovering.includes(stepId), `${at} [${stepId}]: listed as recovering iff recovering`).toBe(
      snapshot.matches('recovering'),
    );
    const step = MODEL_STEPS.find((candidate) => candidate.stepId === stepId);
    if (step !== undefined) {
      checkStepInvariants(snapshot, step, runtime, invoked.get(stepId) ?? { executor: 0, alternative: 0 }, `${at} [${stepId}]`);
    }
  }
}

const restoreCheck = createRestoreCheck(createExecutionLogic, EXECUTION);

/** JSON round trip of the persisted execution (children included), restored on a fresh runtime. */
function expectRestores(actor: ExecutionActor, expected: SystemState, expectedKey: string, now: number, at: string): void {
  const persisted = actor.getPersistedSnapshot() as unknown as { children: Record<string, { snapshot: { context: { finished: unknown } } }> };
  for (const [stepId, child] of Object.entries(persisted.children)) {
    // A finished step is stopped in the flush it finishes in: no persisted step holds a record or an output.
    expect(child.snapshot.context.finished, `${at} [${stepId}]: persisted without a finished record`).toBeNull();
  }
  restoreCheck(persisted, expectedKey, now, (restored, fresh) => {
    const snapshot = restored.getSnapshot();
    expect(snapshot.value, `${at}: restored value`).toEqual(expected.execution.value);
    expect(snapshot.context, `${at}: restored context`).toEqual(expected.execution.context);
    const children = childrenOf(snapshot);
    expect(Object.keys(children).sort(), `${at}: restored children`).toEqual(Object.keys(expected.steps).sort());
    for (const [stepId, model] of Object.entries(expected.steps)) {
      const child = children[stepId]?.getSnapshot();
      expect(child?.value, `${at} [${stepId}]: restored value`).toEqual(model.value);
      expect(child?.context, `${at} [${stepId}]: restored context`).toEqual(model.context);
    }
    // Work in flight starts again (at least once), and backoff waits are re-armed.
    const steps = Object.values(expected.steps);
    const count = (state: object): number => steps.filter((step) => step.matches(state as never)).length;
    expect(fresh.executeCalls, `${at}: executors re-run`).toHaveLength(count({ running: 'executing' }));
    expect(fresh.alternativeCalls, `${at}: alternatives re-run`).toHaveLength(count({ recovering: 'alternativePath' }));
    expect(fresh.clock.pendingTimers, `${at}: backoff timers re-armed`).toBe(count({ recovering: 'waitingToRetry' }));
  });
}

/**
 * Drives one path; returns every declared transition key the real actors took.
 * Fails at the first step where the actors and the model differ.
 */
export async function driveExecutionPath(path: SystemPath, serialize: (state: SystemState) => string): Promise<string[]> {
  const runtime = createScriptedRuntime();
  const recorder = new Recorder(label);
  const actor = createActor(createExecutionLogic(runtime), {
    id: EXECUTION,
    input: EXECUTION_INPUT,
    clock: runtime.clock,
    inspect: recorder.inspect,
  });
  const errors: unknown[] = [];
  const emitted: EventObject[] = [];
  actor.subscribe({ error: (error: unknown) => errors.push(error) });
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  const where = describePath(path);
  const invoked = new Map<string, InvokeCounts>();
  let plannerCalls = 0;
  try {
    expectSameSystem(actor, path.initial, runtime, invoked, `${where} @initial`);
    recorder.takeTransitions();
    for (const [index, step] of path.steps.entries()) {
      const at = `${where} @${index} ${step.event.type}`;
      emitted.length = 0;
      await realize(actor, runtime, step.event);
      for (const [stepId, ids] of Object.entries(step.trace.invoked)) {
        const counts = invoked.get(stepId) ?? { executor: 0, alternative: 0 };
        for (const id of ids) if (id === 'executor' || id === 'alternative') counts[id]++;
        invoked.set(stepId, counts);
      }
      expect(Object.fromEntries(recorder.takeTransitions()), `${at}: transitions taken`).toEqual(step.trace.byActor);
      expect(withoutStacks(emitted), `${at}: emitted`).toEqual(withoutStacks(step.trace.emitted));
      if (consultsPlanner(step.event)) plannerCalls++;
      expect(runtime.plannedErrors, `${at}: the planner is consulted once per failed attempt`).toHaveLength(plannerCalls);
      expectSameSystem(actor, step.state, runtime, invoked, at);
      expectRestores(actor, step.state, serialize(step.state), runtime.clock.now(), at);
    }
    if (actor.getSnapshot().status === 'done') {
      runtime.sealed = true;
      runtime.clock.advance(24 * 60 * 60 * 1000);
      await flush();
      expect(runtime.callsAfterSeal, `${where}: runtime called after the execution ended`).toBe(0);
    }
    expect(errors, where).toEqual([]);
  } finally {
    actor.stop();
  }
  return recorder.all;
}
