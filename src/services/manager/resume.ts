/**
 * Reading a stored execution back: what the journal says about its steps,
 * variables and status, as plain data the manager replays.
 *
 * @module
 */
import { ExecutionStatus } from '../../constants.js';
import type { StepRecord } from '../../machines/machine-types.js';
import type { StoredExecution } from '../../stores/types.js';
import type { JsonValue } from '../../validation.js';
import type { VariableMetadata, VariableState } from '../variables/index.js';
import { readEngineCheckpoint, type EngineCheckpointData } from './engine-checkpoint.js';

const TERMINAL: ReadonlySet<ExecutionStatus> = new Set([
  ExecutionStatus.COMPLETED,
  ExecutionStatus.FAILED,
  ExecutionStatus.CANCELLED,
]);

/** A step that was started and never finished: its process died while it ran. */
export interface InterruptedStep {
  stepName: string;
  /** The attempt that was running. */
  attempt: number;
}

/** When a finished step's latest run began and ended, as the journal recorded it. */
export interface StepTimes {
  /** Null when the journal does not say (a step skipped without starting, an older journal). */
  startedAt: string | null;
  endedAt: string;
}

/** What a stored execution's journal adds up to. */
export interface JournalSummary {
  status: ExecutionStatus;
  totalSteps: number;
  /** Latest outcome per step, in the order the steps first finished. */
  records: Map<string, StepRecord>;
  outputs: Map<string, JsonValue>;
  /** Times of the steps in `records` that finished after the last restore. */
  times: Map<string, StepTimes>;
  interrupted: Map<string, InterruptedStep>;
  /** The variables as the journal left them. */
  variables: VariableState;
  /** When the execution first started running, and when it ended (null while it has not). */
  startedAt: string | null;
  endedAt: string | null;
}

/** Reads the journal once, in order. */
export function summarizeJournal(stored: StoredExecution, pipelineId: string): JournalSummary {
  const records = new Map<string, StepRecord>();
  const outputs = new Map<string, JsonValue>();
  const times = new Map<string, StepTimes>();
  const interrupted = new Map<string, InterruptedStep>();
  let globals: Record<string, { value: JsonValue; metadata: VariableMetadata }> = {};
  let contexts: Record<string, Record<string, { value: JsonValue; metadata: VariableMetadata }>> = {};
  let templates: Record<string, string> = {};
  let dependencies: Record<string, string[]> = {};
  let status: ExecutionStatus = stored.summary.status;
  let startedAt: string | null = null;
  let endedAt: string | null = null;
  const checkpoints = new Map(stored.checkpoints.map((entry) => [entry.checkpoint.id, entry.checkpoint]));
  for (const entry of stored.journal) {
    switch (entry.kind) {
      case 'step_started':
        interrupted.set(entry.stepId, { stepName: entry.stepName, attempt: entry.attempt });
        break;
      case 'step_finished':
        interrupted.delete(entry.record.stepId);
        records.set(entry.record.stepId, entry.record);
        times.set(entry.record.stepId, { startedAt: entry.startedAt ?? null, endedAt: entry.at });
        if (entry.record.status === 'completed') outputs.set(entry.record.stepId, entry.output);
        else outputs.delete(entry.record.stepId);
        break;
      case 'variable_set': {
        const target = entry.contextId === null ? globals : (contexts[entry.contextId] ??= {});
        target[entry.name] = { value: entry.value, metadata: entry.metadata };
        break;
      }
      case 'variable_deleted': {
        const target = entry.contextId === null ? globals : contexts[entry.contextId];
        if (target !== undefined) Reflect.deleteProperty(target, entry.name);
        break;
      }
      case 'status':
        status = entry.status;
        if (entry.status === ExecutionStatus.RUNNING) startedAt ??= entry.at;
        endedAt = TERMINAL.has(entry.status) ? entry.at : null;
        break;
      case 'checkpoint_restored': {
        // Everything before the restore gives way to the checkpoint. A
        // checkpoint pruned since is gone: the journal goes on without it.
        const checkpoint = checkpoints.get(entry.checkpointId);
        if (checkpoint === undefined) break;
        const engine = readEngineCheckpoint(checkpoint.extensions);
        records.clear();
        outputs.clear();
        times.clear();
        interrupted.clear();
        for (const [stepId, record] of Object.entries(engine?.steps ?? {})) records.set(stepId, record);
        for (const [stepId, output] of Object.entries(engine?.outputs ?? {})) outputs.set(stepId, output);
        for (const [stepId, step] of Object.entries(inFlightSteps(engine))) interrupted.set(stepId, step);
        globals = structuredClone(checkpoint.variables.variables);
        contexts = structuredClone(checkpoint.variables.contexts);
        templates = { ...checkpoint.variables.templates };
        dependencies = structuredClone(checkpoint.variables.dependencies);
        status = checkpoint.status;
        break;
      }
    }
  }
  const total = stored.summary.metadata.totalSteps;
  return {
    status,
    totalSteps: typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : records.size,
    records,
    outputs,
    times,
    interrupted,
    variables: { formatVersion: 1, pipelineId, variables: globals, templates, dependencies, contexts },
    startedAt,
    endedAt,
  };
}

/** Steps whose actors were alive in a checkpoint's snapshot: restored, they run again. */
function inFlightSteps(engine: EngineCheckpointData | undefined): Record<string, InterruptedStep> {
  const children = (engine?.actor as { children?: Record<string, { snapshot?: { context?: Record<string, unknown> } }> } | undefined)
    ?.children;
  const steps: Record<string, InterruptedStep> = {};
  for (const [stepId, child] of Object.entries(children ?? {})) {
    const context = child.snapshot?.context;
    steps[stepId] = {
      stepName: typeof context?.stepName === 'string' ? context.stepName : stepId,
      attempt: typeof context?.attempt === 'number' ? context.attempt : 1,
    };
  }
  return steps;
}
