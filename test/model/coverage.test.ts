/**
 * Transition coverage of both machines: every transition the definitions
 * declare (per source state node, event type and guarded candidate) must be
 * taken by real actors driven along the generated paths, except the listed
 * unreachable ones, which must stay untaken. A transition added without a
 * path to it fails here.
 */
import { describe, expect, it } from 'vitest';
import { executionMachine } from '../../src/machines/execution.machine.js';
import { stepMachine } from '../../src/machines/step.machine.js';
import { driveExecutionPath } from './execution-driver.js';
import { EXECUTION_MODELS, createExecutionModel } from './execution-model.js';
import { generatePaths, type EdgeTrace, type ModelPath } from './paths.js';
import { driveStepPath } from './step-driver.js';
import { STEP_MODELS, createStepModel } from './step-model.js';
import { KNOWN_UNREACHABLE, definedTransitions } from './transitions.js';

/** A generated path with the function that drives it on real actors. */
interface Drivable {
  keys: ReadonlySet<string>;
  drive(): Promise<string[]>;
}

function modelKeys<S, E, T extends EdgeTrace>(path: ModelPath<S, E, T>): Set<string> {
  return new Set(path.steps.flatMap((step) => step.trace.transitions));
}

/** Few paths that together take every transition the model paths take (greedy set cover). */
function cover(paths: readonly Drivable[]): Drivable[] {
  const left = new Set(paths.flatMap((path) => [...path.keys]));
  const chosen: Drivable[] = [];
  while (left.size > 0) {
    let best: Drivable | undefined;
    let gain = 0;
    for (const path of paths) {
      const newKeys = [...path.keys].filter((key) => left.has(key)).length;
      if (newKeys > gain) {
        best = path;
        gain = newKeys;
      }
    }
    if (best === undefined) break;
    chosen.push(best);
    for (const key of best.keys) left.delete(key);
  }
  return chosen;
}

const drivable: Drivable[] = [];
const sizes: Record<string, unknown>[] = [];
for (const config of STEP_MODELS) {
  const generated = generatePaths(createStepModel(config), {
    simpleStopWhen: (state) => state.context.attempt >= config.simpleStopAtAttempt,
  });
  sizes.push({ model: config.name, states: generated.states, edges: generated.edges, ...generated.found });
  for (const path of generated.paths) drivable.push({ keys: modelKeys(path), drive: () => driveStepPath(config, path) });
}
for (const config of EXECUTION_MODELS) {
  const model = createExecutionModel(config);
  // Simple paths add orderings, not transitions: shortest and transition-covering paths suffice here.
  const generated = generatePaths(model, { skipSimple: true });
  sizes.push({ model: config.name, states: generated.states, edges: generated.edges, ...generated.found });
  for (const path of generated.paths) drivable.push({ keys: modelKeys(path), drive: () => driveExecutionPath(path, model.serialize) });
}

const machines = { step: stepMachine, execution: executionMachine } as const;

describe('transition coverage', () => {
  it('enumerates every candidate of every declared transition', () => {
    const step = definedTransitions(stepMachine);
    expect(new Set(step).size).toBe(step.length);
    // Invoke onDone/onError and guarded candidates are all there.
    expect(step).toContain('step.running.executing|xstate.done.actor.executor|0');
    expect(step).toContain('step.running.executing|xstate.done.actor.executor|2');
    expect(step).toContain('step.recovering.waitingToRetry|xstate.error.actor.backoff|0');
    expect(step).toContain('step.recovering.deciding|always|0');
    // Steps spawned by the execution run at once (autoRun), without STEP.RUN.
    expect(step).toContain('step.pending|always|0');
    expect(step).toContain('step.pending|always|1');
    expect(step).toContain('step.pending|STEP.RUN|0');
    const execution = definedTransitions(executionMachine);
    expect(execution).toContain('execution.pending|EXECUTION.START|0');
    // A finished step reports through its done event, while running (ending the last recovery or not) and paused.
    expect(execution).toEqual(
      expect.arrayContaining([
        'execution.running|xstate.done.actor.*|0',
        'execution.running|xstate.done.actor.*|1',
        'execution.paused|xstate.done.actor.*|0',
      ]),
    );
    expect(execution.filter((key) => key.includes('STEP.FINISHED'))).toEqual([]);
  });

  it('real actors driven along the paths take every reachable transition of both machines', async () => {
    const real = new Set<string>();
    const chosen = cover(drivable);
    for (const path of chosen) for (const key of await path.drive()) real.add(key);
    const byModel = new Set(drivable.flatMap((path) => [...path.keys]));

    const rows = Object.entries(machines).map(([name, machine]) => {
      const defined = definedTransitions(machine);
      return {
        machine: name,
        declared: defined.length,
        'taken by model paths': defined.filter((key) => byModel.has(key)).length,
        'taken by real actors': defined.filter((key) => real.has(key)).length,
        'known unreachable': defined.filter((key) => key in KNOWN_UNREACHABLE).length,
      };
    });
    console.log('models (paths found per kind; simple paths of the execution models are driven in execution.model.test.ts):');
    console.table(sizes);
    console.log(`transition coverage: ${drivable.length} paths, ${chosen.length} driven here (greedy cover)`);
    console.table(rows);

    const defined = Object.values(machines).flatMap((machine) => definedTransitions(machine));
    const missing = defined.filter((key) => !real.has(key) && !(key in KNOWN_UNREACHABLE));
    expect(missing, 'declared transitions no path takes').toEqual([]);
    const unexpected = [...real].filter((key) => !defined.includes(key));
    expect(unexpected, 'taken transitions the definitions do not declare').toEqual([]);
    for (const key of Object.keys(KNOWN_UNREACHABLE)) {
      expect(defined, `known-unreachable entry ${key} is stale`).toContain(key);
      expect(real.has(key) || byModel.has(key), `${key} is listed as unreachable but is taken`).toBe(false);
    }
  });
});
