import { describe, expect, it } from 'vitest';
import {
  ErrorCategory,
  ExecutionStatus,
  FatalError,
  ProgressEventType,
  RecoveryPlan,
  RecoveryStrategy,
  SimulatedClock,
  type ErrorInfo,
} from '../src/index.js';
import { definePipeline, runPipeline } from '../src/runner/index.js';
import { T0, drive } from './helpers/manager-harness.js';

function networkError(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

describe('a step\'s `retry`', () => {
  it('retries whatever the step throws, with the backoff it gives', async () => {
    const clock = new SimulatedClock(T0);
    let calls = 0;
    const pipeline = definePipeline({
      id: 'retry',
      steps: [
        {
          id: 'flaky',
          retry: { maxAttempts: 3, initialDelayMs: 100, backoffFactor: 3 },
          run: ({ attempt }) => {
            calls += 1;
            if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
            return 'third time';
          },
        },
      ],
    });
    const run = runPipeline(pipeline, { clock });
    const recovering: string[] = [];
    run.on(ProgressEventType.STEP_RECOVERING, (event) => recovering.push(event.stepId ?? '?'));
    const result = await drive(clock, run.done);
    expect(calls).toBe(3);
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.steps[0]).toMatchObject({ status: 'completed', attempts: 3, retries: 2 });
    expect(result.outputs.flaky).toBe('third time');
    expect(recovering).toEqual(['flaky', 'flaky']);
    expect(clock.now() - T0).toBe(100 + 300);
  });

  it('never retries a FatalError', async () => {
    let calls = 0;
    const pipeline = definePipeline({
      id: 'retry',
      steps: [{ id: 'fatal', retry: { maxAttempts: 5, initialDelayMs: 0 }, run: () => {
        calls += 1;
        throw new FatalError('bad config');
      } }],
    });
    const result = await runPipeline(pipeline).done;
    expect(calls).toBe(1);
    expect(result.steps[0]).toMatchObject({ status: 'failed', attempts: 1, error: 'bad config' });
  });

  it('without it, a plain error fails the step on its first attempt', async () => {
    let calls = 0;
    const pipeline = definePipeline({ id: 'plain', steps: [{ id: 'a', run: () => {
      calls += 1;
      throw new Error('Something failed');
    } }] });
    const result = await runPipeline(pipeline).done;
    expect(calls).toBe(1);
    expect(result.status).toBe(ExecutionStatus.FAILED);
  });
});

describe('a step\'s `recovery`', () => {
  it('as a fixed plan: SKIP lets the run complete', async () => {
    const pipeline = definePipeline({
      id: 'recovery',
      steps: [
        { id: 'optional', recovery: { strategy: RecoveryStrategy.SKIP }, run: () => {
          throw new Error('not this time');
        } },
        { id: 'after', dependsOn: ['optional'], run: () => 'ran' },
      ],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.steps.map((step) => step.status)).toEqual(['skipped', 'completed']);
  });

  it('as a function: consulted for its own step only, before the built-in network handler', async () => {
    const clock = new SimulatedClock(T0);
    const asked: ErrorInfo[] = [];
    let otherCalls = 0;
    const pipeline = definePipeline({
      id: 'recovery',
      steps: [
        {
          id: 'mine',
          recovery: (info) => {
            asked.push(info);
            return new RecoveryPlan({ strategy: RecoveryStrategy.FAIL_FAST });
          },
          run: () => {
            throw networkError();
          },
        },
        {
          id: 'other',
          run: ({ attempt }) => {
            otherCalls += 1;
            // The built-in network handler retries this one.
            if (attempt < 2) throw networkError();
            return 'recovered';
          },
        },
      ],
    });
    const result = await drive(clock, runPipeline(pipeline, { clock }).done);
    expect(asked.map((info) => [info.stepId, info.category])).toEqual([['mine', ErrorCategory.NETWORK]]);
    expect(result.steps.map((step) => [step.id, step.status, step.attempts])).toEqual([
      ['mine', 'failed', 1],
      ['other', 'completed', 2],
    ]);
    expect(otherCalls).toBe(2);
  });

  it('as a function returning nothing: the engine\'s default applies', async () => {
    const clock = new SimulatedClock(T0);
    const pipeline = definePipeline({
      id: 'recovery',
      steps: [{ id: 'a', recovery: () => undefined, run: ({ attempt }) => {
        if (attempt === 1) throw networkError();
        return 'ok';
      } }],
    });
    const result = await drive(clock, runPipeline(pipeline, { clock }).done);
    expect(result.steps[0]).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('ALTERNATIVE_PATH runs the step\'s alternatives', async () => {
    const pipeline = definePipeline({
      id: 'recovery',
      steps: [
        { id: 'source', run: () => 10 },
        {
          id: 'fetch',
          dependsOn: ['source'],
          recovery: { strategy: RecoveryStrategy.ALTERNATIVE_PATH },
          alternatives: [({ outputs }) => `cached ${String(outputs.source)}`],
          run: () => {
            throw new Error('primary down');
          },
        },
      ],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.status).toBe(ExecutionStatus.COMPLETED);
    expect(result.outputs.fetch).toBe('cached 10');
  });
});

describe('a pipeline never rolls back', () => {
  it('an error whose default would be ROLLBACK (HIGH severity) fails the step, and completed steps stay completed', async () => {
    const pipeline = definePipeline({
      id: 'no-rollback',
      steps: [
        { id: 'first', run: () => 'kept' },
        { id: 'auth', dependsOn: ['first'], run: () => {
          throw Object.assign(new Error('token expired'), { status: 401 });
        } },
      ],
    });
    const run = runPipeline(pipeline);
    const restored: string[] = [];
    run.on(ProgressEventType.CHECKPOINT_RESTORED, (event) => restored.push(event.message ?? ''));
    const result = await run.done;
    expect(restored).toEqual([]);
    expect(result.status).toBe(ExecutionStatus.FAILED);
    expect(result.steps.map((step) => [step.id, step.status, step.attempts])).toEqual([
      ['first', 'completed', 1],
      ['auth', 'failed', 1],
    ]);
    expect(result.outputs).toEqual({ first: 'kept' });
  });

  it('a recovery function that answers ROLLBACK fails the step instead', async () => {
    const pipeline = definePipeline({
      id: 'no-rollback',
      steps: [
        { id: 'first', run: () => 'kept' },
        { id: 'second', dependsOn: ['first'], recovery: () => ({ strategy: RecoveryStrategy.ROLLBACK }), run: () => {
          throw new Error('nope');
        } },
      ],
    });
    const result = await runPipeline(pipeline).done;
    expect(result.steps.map((step) => step.status)).toEqual(['completed', 'failed']);
    expect(result.report.recovery.totalErrors).toBe(1);
  });
});
