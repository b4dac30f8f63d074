/**
 * Drives a real step actor (`createStepLogic` on a scripted runtime) along a
 * step-model path and checks, after every step, that it reached the path's
 * state, took the same declared transitions, told its parent the same things,
 * and keeps the invariants. The step runs as the child of a tiny parent
 * machine, since `sendParent` needs a parent.
 *
 * @module
 */
import { expect } from 'vitest';
import { createActor, sendTo, setup, spawnChild, assign, type ActorRefFrom, type EventObject } from 'xstate';
import { createStepLogic, type StepRuntime } from '../../src/actors/step-logic.js';
import { StepTimeoutError } from '../../src/errors.js';
import type { StepFinished, StepInput } from '../../src/machines/machine-types.js';
import type { StepEvent, StepParentEvent } from '../../src/machines/step.machine.js';
import { flush } from './fixtures.js';
import { Recorder } from './inspection.js';
import type { RecordedAction } from './model-scope.js';
import { describePath, type ModelPath, type PathStep } from './paths.js';
import { createRestoreCheck } from './restore.js';
import { createScriptedRuntime, pendingCall, type ScriptedRuntime } from './runtime.js';
import {
  CLOCK_FAULT,
  initialStepTrace,
  type StepModelConfig,
  type StepModelEvent,
  type StepSnapshot,
  type StepTrace,
} from './step-model.js';
import { checkStepInvariants, expectSameState, type InvokeCounts } from './step-checks.js';
import { DONE } from './step-oracle.js';

/** Id of the step child inside the harness. */
const STEP_ID = 'step';

/** The done event XState sends the harness when its step finishes. */
type StepDoneEvent = { type: `xstate.done.actor.${typeof STEP_ID}`; output: StepFinished | null };

/** What the harness keeps of the step's reports: its status events, and its done event as {@link DONE}. */
export type HarnessReport = StepParentEvent | { type: typeof DONE; output: StepFinished | null };

/**
 * A parent for one step actor: forwards the step events, keeps what the step
 * reports. The step logic is registered by name so snapshots persist.
 */
export function createStepHarness(runtime: StepRuntime) {
  return setup({
    types: {
      context: {} as { input: StepInput; reports: HarnessReport[] },
      events: {} as StepEvent | StepParentEvent | StepDoneEvent,
      input: {} as StepInput,
    },
    actors: { step: createStepLogic(runtime) },
    actions: {
      report: assign({
        reports: ({ context, event }) => {
          if (event.type === 'STEP.STATUS') return [...context.reports, event];
          if (event.type === `xstate.done.actor.${STEP_ID}`) return [...context.reports, { type: DONE, output: event.output }];
          return context.reports;
        },
      }),
      forward: sendTo(STEP_ID, ({ event }) => event as StepEvent),
    },
  }).createMachine({
    id: 'harness',
    context: ({ input }) => ({ input, reports: [] }),
    entry: spawnChild('step', { id: STEP_ID, input: ({ context }) => context.input }),
    on: {
      'STEP.STATUS': { actions: 'report' },
      [`xstate.done.actor.${STEP_ID}`]: { actions: 'report' },
      'STEP.RUN': { actions: 'forward' },
      'STEP.PROGRESS': { actions: 'forward' },
      'STEP.COMPLETE': { actions: 'forward' },
      'STEP.FAIL': { actions: 'forward' },
      'STEP.SKIP': { actions: 'forward' },
      'STEP.CANCEL': { actions: 'forward' },
    },
  });
}

type StepActorRef = ActorRefFrom<ReturnType<typeof createStepLogic>>;
type StepPath = ModelPath<StepSnapshot, StepModelEvent, StepTrace>;

function stepOf(actor: { getSnapshot(): { children: Record<string, unknown> } }): StepActorRef {
  const child = actor.getSnapshot().children[STEP_ID];
  if (child === undefined) throw new Error('The harness has no step child');
  return child as StepActorRef;
}

/** Makes the real actor take the transition the model event stands for. */
async function realize(
  runtime: ScriptedRuntime,
  config: StepModelConfig,
  send: (event: StepEvent) => void,
  event: StepModelEvent,
): Promise<void> {
  const stepId = config.input.stepId;
  switch (event.type) {
    case 'xstate.done.actor.executor': {
      const call = pendingCall(runtime.executeCalls, stepId);
      if (event.output.ok) {
        call.resolve(event.output.output);
      } else {
        runtime.nextFailure.set(stepId, event.output.failure);
        if (config.failBy === 'timeout') runtime.clock.advance(call.input.timeoutMs ?? Number.NaN);
        else call.reject(new Error(event.output.failure.error.message));
      }
      break;
    }
    case 'xstate.error.actor.executor':
      runtime.nextCrash.set(stepId, event.error);
      pendingCall(runtime.executeCalls, stepId).reject(new Error('executor failed'));
      break;
    case 'xstate.done.actor.alternative': {
      const call = pendingCall(runtime.alternativeCalls, stepId);
      if (event.output.ok) {
        call.resolve(event.output.output);
      } else {
        runtime.nextFailure.set(stepId, event.output.failure);
        call.reject(new Error(event.output.failure.error.message));
      }
      break;
    }
    case 'xstate.error.actor.alternative':
      runtime.nextCrash.set(stepId, event.error);
      pendingCall(runtime.alternativeCalls, stepId).reject(new Error('alternative failed'));
      break;
    case 'xstate.done.actor.backoff':
      if (!runtime.clock.runNext()) throw new Error('No backoff timer to fire');
      break;
    case 'xstate.error.actor.backoff':
      // Realised together with the step that enters `waitingToRetry` (see driveStepPath).
      break;
    default:
      send(event);
  }
  await flush();
}

/** Whether realising `event` makes the runtime's planner run (an executor or alternative failed). */
export function consultsPlanner(event: { type: string; output?: unknown }): boolean {
  switch (event.type) {
    case 'xstate.done.actor.executor':
    case 'xstate.done.actor.alternative':
      return !(event.output as { ok: boolean }).ok;
    case 'xstate.error.actor.executor':
    case 'xstate.error.actor.alternative':
      return true;
    default:
      return false;
  }
}

/** Adds the executor / alternative starts of one model edge to `counts`. */
export function countInvokes(trace: { actions: readonly RecordedAction[] }, counts: InvokeCounts): void {
  for (const action of trace.actions) {
    if (action.kind === 'spawn' && (action.id === 'executor' || action.id === 'alternative')) counts[action.id]++;
  }
}

function parentReports(steps: PathStep<StepSnapshot, StepModelEvent, StepTrace>[]): EventObject[] {
  return steps.flatMap((step) => step.trace.reports);
}

const restoreCheck = createRestoreCheck(createStepHarness);

/** Persists the harness through JSON, restores it on a fresh runtime and checks the step came back as it was. */
function expectRestores(persisted: unknown, expected: StepSnapshot, now: number, at: string): void {
  const expectedKey = JSON.stringify({ value: expected.value, context: expected.context });
  restoreCheck(persisted, expectedKey, now, (restored, fresh) => {
    const step = stepOf(restored).getSnapshot();
    expect(step.value, `${at}: restored value`).toEqual(expected.value);
    expect(step.context, `${at}: restored context`).toEqual(expected.context);
    const { context } = expected;
    if (expected.matches({ running: 'executing' })) {
      // In-flight executors are re-run on restore, with the same input.
      expect(fresh.executeCalls.map((call) => call.input), `${at}: executor re-run`).toEqual([
        { stepId: context.stepId, stepName: context.stepName, attempt: context.attempt, resumed: context.resumed, timeoutMs: context.timeoutMs },
      ]);
    }
    if (expected.matches({ recovering: 'waitingToRetry' })) {
      // The backoff wait is re-armed for what is left of it.
      expect(fresh.clock.scheduledDelays, `${at}: backoff re-armed`).toEqual([Math.max(0, (context.retryAt ?? Number.NaN) - now)]);
    }
    if (expected.matches({ recovering: 'alternativePath' })) {
      expect(fresh.alternativeCalls, `${at}: alternative re-run`).toHaveLength(1);
    }
  });
}

/**
 * Drives one path; returns every declared transition key the real actors took.
 * Fails (vitest `expect`) at the first step where the actor and the model differ.
 */
export async function driveStepPath(config: StepModelConfig, path: StepPath): Promise<string[]> {
  const runtime = createScriptedRuntime();
  const harness = createStepHarness(runtime);
  const recorder = new Recorder((id) => (id === STEP_ID ? STEP_ID : null));
  const actor = createActor(harness, { input: config.input, clock: runtime.clock, inspect: recorder.inspect });
  const errors: unknown[] = [];
  actor.subscribe({ error: (error: unknown) => errors.push(error) });
  actor.start();
  const where = describePath(path);
  let plannerCalls = 0;
  const invoked: InvokeCounts = { executor: 0, alternative: 0 };
  try {
    const initial = initialStepTrace(config);
    countInvokes(initial, invoked);
    expectSameState(stepOf(actor).getSnapshot(), path.initial, `${where} @initial`);
    expect(recorder.takeTransitions().get(STEP_ID) ?? [], `${where} @initial: transitions taken`).toEqual(initial.transitions);
    await flush();
    checkStepInvariants(stepOf(actor).getSnapshot(), config.input, runtime, invoked, `${where} @initial`);
    recorder.takeSnapshots();
    for (let index = 0; index < path.steps.length; index++) {
      const step = path.steps[index]!;
      const group = [step];
      // A failing clock makes the backoff timer reject as soon as it starts, in
      // the same flush as the transition into `waitingToRetry`: realise both together.
      const following = path.steps[index + 1];
      if (following?.event.type === 'xstate.error.actor.backoff') {
        runtime.clock.failNextTimer(new Error(CLOCK_FAULT));
        group.push(following);
        index++;
      }
      const at = `${where} @${index} ${step.event.type}`;
      const reportsBefore = actor.getSnapshot().context.reports.length;
      const plannedBefore = runtime.plannedErrors.length;
      await realize(
        runtime,
        config,
        (event) => {
          actor.send(event);
        },
        step.event,
      );
      const real = stepOf(actor).getSnapshot();
      const expected = group.at(-1)!.state;
      expectSameState(real, expected, at);
      if (group.length > 1) {
        expect(runtime.clock.faultArmed, `${at}: the clock fault was not hit`).toBe(false);
        const passedThrough = (recorder.takeSnapshots().get(STEP_ID) ?? []) as StepSnapshot[];
        expect(passedThrough.map((snapshot) => snapshot.value), at).toContainEqual(step.state.value);
      }
      recorder.takeSnapshots();
      expect(recorder.takeTransitions().get(STEP_ID) ?? [], `${at}: transitions taken`).toEqual(
        group.flatMap((member) => member.trace.transitions),
      );
      expect(actor.getSnapshot().context.reports.slice(reportsBefore), `${at}: reports to the parent`).toEqual(
        parentReports(group),
      );
      if (config.failBy === 'timeout' && step.event.type === 'xstate.done.actor.executor' && !step.event.output.ok) {
        expect(runtime.plannedErrors.slice(plannedBefore)[0], at).toBeInstanceOf(StepTimeoutError);
      }
      plannerCalls += group.filter((member) => consultsPlanner(member.event)).length;
      expect(runtime.plannedErrors, `${at}: the planner is consulted once per failed attempt`).toHaveLength(plannerCalls);
      for (const member of group) countInvokes(member.trace, invoked);
      checkStepInvariants(real, config.input, runtime, invoked, at);
      expectRestores(actor.getPersistedSnapshot(), expected, runtime.clock.now(), at);
    }
    const last = stepOf(actor).getSnapshot();
    if (last.status === 'done') {
      // A finished step leaves nothing behind that could still call user code.
      runtime.sealed = true;
      runtime.clock.advance(24 * 60 * 60 * 1000);
      await flush();
      expect(runtime.callsAfterSeal, `${where}: runtime called after the step finished`).toBe(0);
    }
    expect(errors, where).toEqual([]);
  } finally {
    actor.stop();
  }
  return recorder.all;
}
