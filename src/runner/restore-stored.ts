/**
 * {@link restoreStoredExecution}: rolls a stored execution back to one of its
 * checkpoints, durably, for the next run to continue from there.
 *
 * The manager's `restoreCheckpoint` rebuilds a live execution in memory; a
 * stored run that no process holds is rolled back here, in its journal, with
 * the journal's own entry kinds: steps that finished after the checkpoint get
 * their record as of the checkpoint back (or a `cancelled` record, so they
 * run again), variables get their checkpoint values back, and the execution
 * becomes `cancelled`, the resumable status. One atomic store write.
 *
 * @module
 */
import { isoNow, systemClock, type Clock } from '../clock.js';
import { ExecutionStatus } from '../constants.js';
import { ErrorCode, ExecutionError } from '../errors.js';
import type { StepRecord } from '../machines/machine-types.js';
import { summarizeJournal } from '../services/manager/resume.js';
import type { VariableState } from '../services/variables/index.js';
import type { CheckpointStore, JournalEntry } from '../stores/types.js';
import { idSchema, parseInput } from '../validation.js';

/** Options of {@link restoreStoredExecution}. */
export interface RestoreStoredOptions {
  /**
   * Time of the journal entries written.
   * @default systemClock
   */
  clock?: Clock;
}

/** What {@link restoreStoredExecution} changed. */
export interface RestoreStoredResult {
  executionId: string;
  checkpointId: string;
  /** Always `cancelled`: the next run with this execution id continues it. */
  status: ExecutionStatus;
  /** Steps that will run again. */
  stepsReset: string[];
  /** Variables set back or removed. */
  variablesReset: string[];
}

type VariableEntries = VariableState['variables'];

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function variableEntries(
  now: VariableEntries,
  then: VariableEntries,
  contextId: string | null,
  at: string,
  reset: Set<string>,
): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const name of Object.keys(now)) {
    if (Object.hasOwn(then, name)) continue;
    entries.push({ kind: 'variable_deleted', name, contextId, at });
    reset.add(name);
  }
  for (const [name, entry] of Object.entries(then)) {
    const current = now[name];
    if (current !== undefined && sameJson(current.value, entry.value)) continue;
    entries.push({ kind: 'variable_set', name, value: entry.value, metadata: entry.metadata, contextId, at });
    reset.add(name);
  }
  return entries;
}

/**
 * Rolls the stored execution back to `checkpointId` (see the module notes).
 * Run it while no process is running the execution.
 *
 * @throws ExecutionError `EXECUTION_NOT_FOUND`, `CHECKPOINT_NOT_FOUND`
 *
 * @example
 * await restoreStoredExecution(store, 'etl-42', checkpointId);
 * await runPipeline(pipeline, { executionId: 'etl-42', store }).done; // continues from the checkpoint
 */
export async function restoreStoredExecution(
  store: CheckpointStore,
  executionId: string,
  checkpointId: string,
  options: RestoreStoredOptions = {},
): Promise<RestoreStoredResult> {
  const id = parseInput(idSchema, executionId, 'restoreStoredExecution executionId');
  const cpId = parseInput(idSchema, checkpointId, 'restoreStoredExecution checkpointId');
  const stored = await store.loadExecution(id);
  if (stored === null) {
    throw new ExecutionError(ErrorCode.ExecutionNotFound, `No execution "${id}" in the ${store.kind} store`, {
      details: { executionId: id },
    });
  }
  const target = await store.getCheckpoint(id, cpId);
  if (target === null) {
    throw new ExecutionError(ErrorCode.CheckpointNotFound, `Execution "${id}" has no checkpoint "${cpId}"`, {
      details: { executionId: id, checkpointId: cpId },
    });
  }
  const at = isoNow(options.clock ?? systemClock);
  const pipelineId = stored.summary.pipelineId;
  const now = summarizeJournal(stored, pipelineId);
  const then = summarizeJournal({ ...stored, journal: stored.journal.filter((entry) => entry.seq <= target.journalSeq) }, pipelineId);
  const label = target.checkpoint.description ?? cpId;
  const entries: JournalEntry[] = [];
  const stepsReset: string[] = [];
  for (const stepId of new Set([...now.records.keys(), ...now.interrupted.keys()])) {
    const before = then.records.get(stepId);
    const after = now.records.get(stepId);
    if (before !== undefined && after !== undefined && sameJson(before, after) && sameJson(then.outputs.get(stepId), now.outputs.get(stepId))) {
      continue;
    }
    if (before !== undefined && (before.status === 'completed' || before.status === 'skipped')) {
      entries.push({ kind: 'step_finished', record: before, output: then.outputs.get(stepId) ?? null, at });
      continue;
    }
    const record: StepRecord = {
      stepId,
      stepName: after?.stepName ?? now.interrupted.get(stepId)?.stepName ?? stepId,
      status: 'cancelled',
      attempts: 0,
      retries: 0,
      recoveredBy: null,
      error: null,
      reason: `Rolled back to checkpoint "${label}"`,
      rollbackCheckpointId: cpId,
    };
    entries.push({ kind: 'step_finished', record, output: null, at });
    stepsReset.push(stepId);
  }
  const variablesReset = new Set<string>();
  const checkpointVariables = target.checkpoint.variables;
  entries.push(...variableEntries(now.variables.variables, checkpointVariables.variables, null, at, variablesReset));
  for (const contextId of new Set([...Object.keys(now.variables.contexts), ...Object.keys(checkpointVariables.contexts)])) {
    entries.push(
      ...variableEntries(now.variables.contexts[contextId] ?? {}, checkpointVariables.contexts[contextId] ?? {}, contextId, at, variablesReset),
    );
  }
  entries.push({ kind: 'status', status: ExecutionStatus.CANCELLED, at });
  await store.write([
    {
      executionId: id,
      summary: { ...stored.summary, status: ExecutionStatus.CANCELLED, updatedAt: at },
      journal: entries,
    },
  ]);
  return { executionId: id, checkpointId: cpId, status: ExecutionStatus.CANCELLED, stepsReset, variablesReset: [...variablesReset] };
}
