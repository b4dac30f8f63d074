/**
 * Records for store tests: summaries, journal entries of every kind, and real
 * checkpoints made by an ExecutionContext on a simulated clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../../src/clock.js';
import type { ExecutionStatus } from '../../src/constants.js';
import { ErrorCode, ExecutionError } from '../../src/errors.js';
import type { StepRecord } from '../../src/machines/machine-types.js';
import { ExecutionContext, type Checkpoint } from '../../src/services/context/index.js';
import type { JsonValue } from '../../src/validation.js';
import type { CheckpointStore, ExecutionSummary, JournalEntry, SyncStoreApi } from '../../src/stores/index.js';

export const T0 = Date.parse('2026-03-01T10:00:00.000Z');

/** ISO time `seconds` after T0. */
export function iso(seconds = 0): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

export function summary(executionId: string, overrides: Partial<ExecutionSummary> = {}): ExecutionSummary {
  return {
    executionId,
    pipelineId: 'pipeline-a',
    status: 'running',
    createdAt: iso(0),
    updatedAt: iso(0),
    definitionHash: null,
    metadata: { module: './pipelines/a.js', totalSteps: 3 },
    ...overrides,
  };
}

export function stepRecord(stepId: string, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    stepId,
    stepName: `Step ${stepId}`,
    status: 'completed',
    attempts: 1,
    retries: 0,
    recoveredBy: null,
    error: null,
    reason: null,
    rollbackCheckpointId: null,
    ...overrides,
  };
}

export function started(stepId: string, at = iso(1)): JournalEntry {
  return { kind: 'step_started', stepId, stepName: `Step ${stepId}`, attempt: 1, at };
}

export function finished(stepId: string, output: JsonValue = { rows: 3 }, at = iso(2)): JournalEntry {
  return { kind: 'step_finished', record: stepRecord(stepId), output, at };
}

export function statusEntry(status: ExecutionStatus, at = iso(0)): JournalEntry {
  return { kind: 'status', status, at };
}

/** One entry of every kind, a failed step with a serialised error among them. */
export function everyKind(): JournalEntry[] {
  return [
    statusEntry('running'),
    started('extract'),
    finished('extract', { rows: [1, 2, 3], nested: { ok: true, ratio: 0.5 } }),
    {
      kind: 'step_finished',
      record: stepRecord('load', {
        status: 'failed',
        attempts: 3,
        retries: 2,
        error: { name: 'Error', message: 'socket reset', code: 'ECONNRESET', cause: { name: 'Error', message: 'inner' } },
      }),
      output: null,
      at: iso(3),
    },
    {
      kind: 'variable_set',
      name: 'rows',
      value: { count: 3 },
      metadata: {
        name: 'rows',
        scope: 'global',
        varType: 'intermediate',
        createdAt: iso(2),
        updatedAt: iso(2),
        sourceStep: 'extract',
        description: null,
        tags: ['etl'],
        version: 1,
      },
      contextId: null,
      at: iso(2),
    },
    { kind: 'variable_deleted', name: 'tmp', contextId: 'loop-1', at: iso(4) },
  ];
}

/** A real checkpoint of `executionId` (frozen, as ExecutionContext makes them). */
export function makeCheckpoint(executionId: string, description: string | null = 'after extract', pipelineId = 'pipeline-a'): Checkpoint {
  const context = new ExecutionContext({ executionId, pipelineId, clock: new SimulatedClock(T0) });
  context.start(3);
  context.variableManager.setVariable('rows', { count: 3 });
  context.startStep('extract');
  context.completeStep('extract');
  return context.createCheckpoint(description ?? undefined, { engine: { note: 'opaque' } });
}

/** The sync face, which every embedded store has. */
export function syncOf(store: CheckpointStore): SyncStoreApi {
  if (store.sync === undefined) throw new Error(`the ${store.kind} store has no sync face`);
  return store.sync;
}

/** Runs `fn` and returns the ExecutionError it throws (fails the test when it does not). */
export function thrownBy(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExecutionError) return error;
    throw new Error(`expected an ExecutionError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a throw');
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix = 'stores-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => { rmSync(dir, { recursive: true, force: true }); } };
}

export { ErrorCode };
