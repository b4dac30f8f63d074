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

/** A step that was started and never finished: its process died while it ran. */
export interface InterruptedStep {
  stepName: string;
  /** The attempt that was running. */
  attempt: number;
}

/** What a stored execution's journal adds up to. */
export interface JournalSummary {
  status: ExecutionStatus;
  totalSteps: number;
  /** Latest outcome per step, in the order the steps first finished. */
  records: Map<string, StepRecord>;
  outputs: Map<string, JsonValue>;
  interrupted: Map<string, InterruptedStep>;
  /** The variables as the journal left them. */
  variables: VariableState;
}

/** Reads the journal once, in order. */
export function summarizeJournal(stored: StoredExecution, pipelineId: string): JournalSummary {
  const records = new Map<string, StepRecord>();
  const outputs = new Map<string, JsonValue>();
  const interrupted = new Map<string, InterruptedStep>();
  const globals: Record<string, { value: JsonValue; metadata: VariableMetadata }> = {};
  const contexts: Record<string, Record<string, { value: JsonValue; metadata: VariableMetadata }>> = {};
  let status: ExecutionStatus = stored.summary.status;
  for (const entry of stored.journal) {
    switch (entry.kind) {
      case 'step_started':
        interrupted.set(entry.stepId, { stepName: entry.stepName, attempt: entry.attempt });
        break;
      case 'step_finished':
        interrupted.delete(entry.record.stepId);
        records.set(entry.record.stepId, entry.record);
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
        break;
    }
  }
  const total = stored.summary.metadata.totalSteps;
  return {
    status,
    totalSteps: typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : records.size,
    records,
    outputs,
    interrupted,
    variables: { formatVersion: 1, pipelineId, variables: globals, templates: {}, dependencies: {}, contexts },
  };
}
