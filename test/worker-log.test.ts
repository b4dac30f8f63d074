/** The lines `orchestrator worker` prints for step events. */
import { describe, expect, it } from 'vitest';
import { ProgressEventType } from '../src/constants.js';
import type { ProgressEvent } from '../src/services/progress/index.js';
import { stepLine } from '../src/workers/worker-log.js';

const event = (eventType: ProgressEventType, extra: Partial<ProgressEvent> = {}): ProgressEvent => ({
  eventType,
  timestamp: '2026-11-26T10:00:00.000Z',
  executionId: 'e1',
  stepId: 'load',
  data: {},
  ...extra,
});

describe('worker log lines', () => {
  it('prints step outcomes and recoveries with their reason, and nothing for progress updates', () => {
    expect(stepLine('e1', event(ProgressEventType.STEP_COMPLETED, { data: { duration: 1.234 } }))).toBe('worker: e1 load completed in 1.2 s');
    expect(stepLine('e1', event(ProgressEventType.STEP_FAILED, { message: 'disk full' }))).toBe('worker: e1 load failed: disk full');
    expect(stepLine('e1', event(ProgressEventType.STEP_RECOVERING, { message: 'retry 1 of 3' }))).toBe('worker: e1 load recovering: retry 1 of 3');
    expect(stepLine('e1', event(ProgressEventType.STEP_SKIPPED))).toBe('worker: e1 load skipped');
    expect(stepLine('e1', event(ProgressEventType.PROGRESS_UPDATE, { message: '50%' }))).toBeNull();
    expect(stepLine('e1', event(ProgressEventType.STEP_STARTED))).toBeNull();
  });
});
