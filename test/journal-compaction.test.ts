/**
 * A step's start that commits together with its outcome is left out of the
 * journal (one row per step instead of two). These tests show that a resume
 * reads the same state from the shorter journal, whatever the entries and
 * however they were split into commits, and that a start committed on its
 * own (a step still running) is kept.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../src/machines/machine-types.js';
import { withoutSettledStarts } from '../src/services/manager/journal.js';
import { summarizeJournal } from '../src/services/manager/resume.js';
import type { JournalEntry, StoredExecution } from '../src/stores/types.js';

const at = '2026-11-26T10:00:00.000Z';
const STEPS = ['a', 'b', 'c'] as const;

function record(stepId: string, status: StepRecord['status'], attempts: number): StepRecord {
  return { stepId, stepName: `Step ${stepId}`, status, attempts, retries: attempts - 1, recoveredBy: null, error: null, reason: null, rollbackCheckpointId: null };
}

const entryArb: fc.Arbitrary<JournalEntry> = fc.oneof(
  fc.record({ stepId: fc.constantFrom(...STEPS), attempt: fc.integer({ min: 1, max: 3 }) }).map(
    ({ stepId, attempt }): JournalEntry => ({ kind: 'step_started', stepId, stepName: `Step ${stepId}`, attempt, at }),
  ),
  fc
    .record({ stepId: fc.constantFrom(...STEPS), status: fc.constantFrom('completed', 'failed', 'skipped', 'cancelled' as const), attempts: fc.integer({ min: 1, max: 3 }) })
    .map(({ stepId, status, attempts }): JournalEntry => ({ kind: 'step_finished', record: record(stepId, status, attempts), output: status === 'completed' ? { stepId, attempts } : null, at })),
  fc.record({ name: fc.constantFrom('x', 'y'), value: fc.integer() }).map(
    ({ name, value }): JournalEntry => ({
      kind: 'variable_set',
      name,
      value,
      metadata: { name, scope: 'global', varType: 'intermediate', createdAt: at, updatedAt: at, sourceStep: null, description: null, tags: [], version: 1 },
      contextId: null,
      at,
    }),
  ),
  fc.constantFrom<JournalEntry>({ kind: 'status', status: 'running', at }, { kind: 'status', status: 'paused', at }),
);

function stored(journal: readonly JournalEntry[]): StoredExecution {
  return {
    summary: { executionId: 'e', pipelineId: 'p', status: 'running', createdAt: at, updatedAt: at, definitionHash: null, metadata: { totalSteps: 3 } },
    journal: journal.map((entry, i) => ({ ...entry, seq: i + 1 })),
    checkpoints: [],
  };
}

/** Splits `entries` into consecutive commits of the given sizes (the last takes the rest). */
function commitsOf(entries: readonly JournalEntry[], sizes: readonly number[]): JournalEntry[][] {
  const commits: JournalEntry[][] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= entries.length) break;
    commits.push(entries.slice(at, at + size));
    at += size;
  }
  if (at < entries.length) commits.push(entries.slice(at));
  return commits;
}

describe('a start committed with its outcome is left out', () => {
  it('drops the start of a step whose outcome follows in the same commit, and nothing else', () => {
    const started = (stepId: string, attempt = 1): JournalEntry => ({ kind: 'step_started', stepId, stepName: `Step ${stepId}`, attempt, at });
    const finished = (stepId: string): JournalEntry => ({ kind: 'step_finished', record: record(stepId, 'completed', 2), output: 1, at });
    const status: JournalEntry = { kind: 'status', status: 'running', at };
    expect(withoutSettledStarts([started('a'), finished('a')])).toEqual([finished('a')]);
    // Two attempts, a start of another step still running, an entry between them.
    expect(withoutSettledStarts([started('a'), status, started('b'), started('a', 2), finished('a')])).toEqual([status, started('b'), finished('a')]);
    // A start after the step's outcome (it runs again) is kept.
    expect(withoutSettledStarts([finished('a'), started('a')])).toEqual([finished('a'), started('a')]);
    const untouched = [started('a'), status];
    expect(withoutSettledStarts(untouched)).toBe(untouched);
  });

  it('a resume reads the same state from the compacted commits as from the full journal', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 10 }), (entries, sizes) => {
        const compacted = commitsOf(entries, sizes).flatMap((commit) => withoutSettledStarts(commit));
        const full = summarizeJournal(stored(entries), 'p');
        const short = summarizeJournal(stored(compacted), 'p');
        expect(short).toEqual(full);
        expect([...short.interrupted.keys()]).toEqual([...full.interrupted.keys()]);
        expect(compacted.filter((e) => e.kind !== 'step_started')).toEqual(entries.filter((e) => e.kind !== 'step_started'));
      }),
      { numRuns: 500 },
    );
  });
});
