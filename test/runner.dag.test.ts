import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutionStatus, ProgressEventType } from '../src/index.js';
import { definePipeline, runPipeline, type PipelineStepDefinition } from '../src/runner/index.js';
import { ticks } from './runner.helpers.js';

/**
 * A random DAG: node i may depend only on nodes with a smaller index (so no
 * cycle), declared in a shuffled order, each node doing a random number of
 * event-loop turns of "work".
 */
const dagArbitrary = fc
  .integer({ min: 1, max: 9 })
  .chain((size) =>
    fc.record({
      deps: fc.tuple(...Array.from({ length: size }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j)))),
      work: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: size, maxLength: size }),
      order: fc.shuffledSubarray(Array.from({ length: size }, (_, i) => i), { minLength: size, maxLength: size }),
      concurrency: fc.integer({ min: 1, max: 4 }),
    }),
  );

describe('runPipeline schedules a DAG', () => {
  it('never starts a step before its dependencies completed, runs every step once, and stays within concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(dagArbitrary, async ({ deps, work, order, concurrency }) => {
        const completed = new Set<string>();
        const starts: string[] = [];
        const violations: string[] = [];
        let running = 0;
        let maxRunning = 0;
        const steps = order.map((i): PipelineStepDefinition => {
          const dependsOn = (deps[i] ?? []).map((j) => `s${j}`);
          return {
            id: `s${i}`,
            dependsOn,
            run: async ({ outputs }) => {
              starts.push(`s${i}`);
              for (const dep of dependsOn) if (!completed.has(dep)) violations.push(`s${i} started before ${dep}`);
              running += 1;
              maxRunning = Math.max(maxRunning, running);
              await ticks(work[i] ?? 0);
              running -= 1;
              completed.add(`s${i}`);
              // Each output counts the steps upstream of it (through outputs).
              return 1 + dependsOn.reduce((sum, dep) => sum + (outputs[dep] as number), 0);
            },
          };
        });
        const result = await runPipeline(definePipeline({ id: 'dag', steps }), { concurrency }).done;

        expect(violations).toEqual([]);
        expect([...starts].sort()).toEqual(order.map((i) => `s${i}`).sort());
        expect(maxRunning).toBeLessThanOrEqual(concurrency);
        expect(result.status).toBe(ExecutionStatus.COMPLETED);
        const expected = new Map<number, number>();
        const outputOf = (i: number): number => {
          const known = expected.get(i);
          if (known !== undefined) return known;
          const value = 1 + (deps[i] ?? []).reduce((sum, j) => sum + outputOf(j), 0);
          expected.set(i, value);
          return value;
        };
        for (const i of order) expect(result.outputs[`s${i}`]).toBe(outputOf(i));
        expect(result.steps.every((step) => step.attempts === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('runs independent steps in parallel, exactly up to `concurrency`', async () => {
    for (const concurrency of [1, 3, 5]) {
      let running = 0;
      let maxRunning = 0;
      const steps = Array.from({ length: 12 }, (_, i): PipelineStepDefinition => ({
        id: `w${i}`,
        run: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await ticks(3);
          running -= 1;
        },
      }));
      const result = await runPipeline(definePipeline({ id: 'wide', steps }), { concurrency }).done;
      expect(result.status).toBe(ExecutionStatus.COMPLETED);
      expect(maxRunning).toBe(concurrency);
    }
  });

  it('defaults to 4 steps at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const steps = Array.from({ length: 10 }, (_, i): PipelineStepDefinition => ({
      id: `w${i}`,
      run: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await ticks(2);
        running -= 1;
      },
    }));
    await runPipeline(definePipeline({ id: 'wide', steps })).done;
    expect(maxRunning).toBe(4);
  });

  it('gives each step its input, the variables and only the outputs of its dependencies', async () => {
    const seen: Record<string, unknown>[] = [];
    const pipeline = definePipeline<{ factor: number }>({
      id: 'ctx',
      steps: [
        { id: 'a', run: ({ input, variables }) => {
          variables.setVariable('from_a', 'hello');
          return 2 * input.factor;
        } },
        { id: 'b', run: () => 'b-out' },
        { id: 'c', dependsOn: ['a'], run: ({ outputs, variables, attempt, resumed }) => {
          seen.push({ ...outputs, variable: variables.getVariable('from_a'), attempt, resumed });
          return 'done';
        } },
      ],
    });
    const result = await runPipeline(pipeline, { input: { factor: 21 } }).done;
    expect(seen).toEqual([{ a: 42, variable: 'hello', attempt: 1, resumed: false }]);
    expect(result.outputs).toEqual({ a: 42, b: 'b-out', c: 'done' });
    expect(result.report.progress).toMatchObject({ completedSteps: 3, totalSteps: 3, percentage: 100 });
  });

  it('streams its progress events through `on` and the async iterator', async () => {
    const pipeline = definePipeline({
      id: 'events',
      steps: [
        { id: 'a', run: ({ reportProgress }) => {
          reportProgress(50, 'half way');
        } },
        { id: 'b', dependsOn: ['a'], run: () => undefined },
      ],
    });
    const run = runPipeline(pipeline);
    const completed: string[] = [];
    const off = run.on(ProgressEventType.STEP_COMPLETED, (event) => {
      completed.push(event.stepId ?? '?');
    });
    run.on('*', () => {
      throw new Error('a broken subscriber');
    });
    const iterated: string[] = [];
    for await (const event of run) iterated.push(`${event.eventType}:${event.stepId ?? ''}`);
    const result = await run.done;
    off();
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(completed).toEqual(['a', 'b']);
    expect(iterated).toEqual(
      expect.arrayContaining(['step_started:a', 'progress_update:a', 'step_completed:a', 'step_started:b', 'step_completed:b', 'execution_completed:']),
    );
    expect(iterated.indexOf('step_completed:a')).toBeLessThan(iterated.indexOf('step_started:b'));
  });

  it('passes `inspect` to the manager\'s actors', async () => {
    const types = new Set<string>();
    const pipeline = definePipeline({ id: 'inspect', steps: [{ id: 'a', run: () => 1 }] });
    await runPipeline(pipeline, { inspect: (event) => types.add(event.type) }).done;
    expect(types).toContain('@xstate.actor');
    expect(types).toContain('@xstate.snapshot');
  });
});
