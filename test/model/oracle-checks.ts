/**
 * The machines against an oracle written from SPEC (step-oracle.ts,
 * execution-oracle.ts) on every edge a model explores. Driving the paths
 * proves the actors do what the machines say; this proves the machines say
 * what SPEC says, so a wrong guard or a lost transition fails.
 *
 * @module
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import { expectedExecution, type OracleExecution } from './execution-oracle.js';
import { stepEvent, type ExecutionModelEvent, type SystemState, type SystemTrace } from './execution-model.js';
import type { ModelEdge } from './paths.js';
import { dotted, expectedStep, initialStep, type OracleStep } from './step-oracle.js';
import type { StepModelConfig, StepModelEvent, StepSnapshot, StepTrace } from './step-model.js';

function asOracle(step: StepSnapshot): OracleStep {
  return { value: dotted(step.value), status: step.status === 'done' ? 'done' : 'active', context: step.context };
}

function asOracleExecution(state: SystemState): OracleExecution {
  return {
    value: dotted(state.execution.value),
    status: state.execution.status === 'done' ? 'done' : 'active',
    context: state.execution.context,
    steps: Object.fromEntries(Object.entries(state.steps).map(([id, step]) => [id, asOracle(step)])),
  };
}

/** Same error, thrown by the machine (wrapped by xstate) or by the oracle: compare what matters. */
function comparable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, inner: unknown) => {
      if (key === 'stack') return undefined;
      if (key === 'message' && typeof inner === 'string' && inner.includes('poisoned')) return 'poisoned';
      return inner;
    }),
  ) as unknown;
}

/** JSON with sorted keys: equal values give equal strings whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/** `expect(actual).toEqual(expected)`, skipped when both are plainly equal (thousands of edges). */
function expectEqual(actual: unknown, expected: unknown, message: string): void {
  if (canonical(actual) !== canonical(expected)) expect(actual, message).toEqual(expected);
}

function describeEdge(state: { value: unknown }, event: EventObject): string {
  return `${JSON.stringify(state.value)} --${JSON.stringify(comparable(event))}-->`;
}

/** The step model starts where the oracle says a step with its input starts, reporting nothing. */
export function expectStepStartFollowsSpec(config: StepModelConfig, initial: StepSnapshot, trace: StepTrace): void {
  expectEqual(asOracle(initial), initialStep(config.input), `${config.name}: initial state`);
  expect(trace.reports, `${config.name}: reports on creation`).toEqual([]);
}

/** Checks every step-model edge against the step oracle. */
export function expectStepEdgesFollowSpec(edges: readonly ModelEdge<StepSnapshot, StepModelEvent, StepTrace>[]): void {
  expect(edges.length).toBeGreaterThan(0);
  for (const { state, event, next, trace } of edges) {
    const at = describeEdge(state, event);
    const expected = expectedStep(asOracle(state), event);
    if (expected === null) {
      expect(trace.transitions, `${at} is ignored`).toEqual([]);
      continue;
    }
    expectEqual(asOracle(next), expected.next, at);
    expectEqual(trace.reports, expected.reports, `${at} reports`);
  }
}

/** Checks every execution-model edge against the execution oracle (children included). */
export function expectExecutionEdgesFollowSpec(edges: readonly ModelEdge<SystemState, ExecutionModelEvent, SystemTrace>[]): void {
  expect(edges.length).toBeGreaterThan(0);
  for (const { state, event, next, trace } of edges) {
    const at = describeEdge(state.execution, event);
    const child = stepEvent(event);
    const expected =
      child === null
        ? expectedExecution(asOracleExecution(state), event)
        : expectedExecution(asOracleExecution(state), child.event, child.stepId);
    expectEqual(comparable(asOracleExecution(next)), comparable(expected.next), at);
    expectEqual(comparable(trace.emitted), comparable(expected.emitted), `${at} emitted`);
  }
}
