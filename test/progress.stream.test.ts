import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ProgressEventType } from '../src/constants.js';
import { ProgressTracker } from '../src/services/progress/index.js';
import type { ProgressEvent } from '../src/services/progress/index.js';

function tracker(): ProgressTracker {
  return new ProgressTracker({ clock: new SimulatedClock(Date.parse('2026-01-01T00:00:00Z')) });
}

const label = (e: ProgressEvent): string => `${e.executionId}:${e.eventType}${e.stepId === undefined ? '' : `:${e.stepId}`}`;

describe('ProgressTracker.events() async iterator', () => {
  it('yields events in order and ends on shutdown after draining the buffer', async () => {
    const t = tracker();
    const stream = t.events();
    t.startExecution('r', 1);
    t.startStep('r', 'a', 'A');
    t.completeStep('r', 'a');
    t.completeExecution('r');
    t.shutdown();
    const seen: string[] = [];
    for await (const event of stream) seen.push(label(event));
    expect(seen).toEqual(['r:execution_started', 'r:step_started:a', 'r:step_completed:a', 'r:execution_completed']);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('delivers to a consumer that is already waiting, and ends a waiting consumer on shutdown', async () => {
    const t = tracker();
    const stream = t.events();
    const first = stream.next();
    const second = stream.next();
    t.startExecution('r', 2);
    t.startStep('r', 'a', 'A');
    expect((await first).value?.eventType).toBe(ProgressEventType.EXECUTION_STARTED);
    expect((await second).value?.eventType).toBe(ProgressEventType.STEP_STARTED);
    const waiting = stream.next();
    t.shutdown();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('break (return()) releases the handler; later events are not buffered', async () => {
    const t = tracker();
    t.addEventHandler(() => undefined);
    const stream = t.events();
    expect(t.getPerformanceMetrics()).toMatchObject({ eventHandlers: 2, activeStreams: 1 });
    t.startExecution('r', 3);
    t.startStep('r', 'a', 'A');
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(label(event));
      if (event.eventType === ProgressEventType.STEP_STARTED) break;
    }
    expect(seen).toEqual(['r:execution_started', 'r:step_started:a']);
    expect(t.getPerformanceMetrics()).toMatchObject({ eventHandlers: 1, activeStreams: 0 });
    t.updateStepProgress('r', 'a', 50);
    expect(stream.pending).toBe(0);
    expect(stream.closed).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('return() drops unread events at once', async () => {
    const t = tracker();
    const stream = t.events();
    t.startExecution('r', 1);
    t.startStep('r', 'a', 'A');
    expect(stream.pending).toBe(2);
    await stream.return();
    expect(stream.pending).toBe(0);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('filters by executionId', async () => {
    const t = tracker();
    const onlyB = t.events({ executionId: 'b' });
    t.startExecution('a', 1);
    t.startExecution('b', 1);
    t.startStep('a', 's', 'S');
    t.startStep('b', 's', 'S');
    t.emitEvent('b', ProgressEventType.CUSTOM_EVENT, { message: 'hello' });
    t.shutdown();
    const seen: string[] = [];
    for await (const event of onlyB) seen.push(label(event));
    expect(seen).toEqual(['b:execution_started', 'b:step_started:s', 'b:custom_event']);
  });

  it('an iterator requested after shutdown is already finished', async () => {
    const t = tracker();
    t.shutdown();
    const stream = t.events();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(t.getPerformanceMetrics().activeStreams).toBe(0);
  });

  it('many streams opened and broken leave no handler behind', async () => {
    const t = tracker();
    t.startExecution('r', 1);
    for (let i = 0; i < 50; i += 1) {
      const stream = t.events({ executionId: 'r' });
      t.updateStepProgress('r', 'a', i);
      for await (const event of stream) {
        expect(event.data.progressPercentage).toBe(i);
        break;
      }
    }
    expect(t.getPerformanceMetrics()).toMatchObject({ eventHandlers: 0, activeStreams: 0 });
  });
});
