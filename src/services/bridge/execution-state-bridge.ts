/**
 * {@link ExecutionStateBridge}: keeps an {@link ExecutionContext} (and its
 * VariableManager) and a legacy {@link PipelineExecutionState} in step.
 *
 * Naming across the two systems: a step's result is the VariableManager
 * variable `<stepId>_result` (OUTPUT, `sourceStep` = the step) and the legacy
 * result keyed by the step id, whose aliases (`<stepId>_result`, `_value`,
 * `_str`) the legacy state derives. Every other variable has the same name in
 * both systems.
 *
 * @module
 */
import { z } from 'zod';
import { isoNow } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { ExecutionStatus, VariableScope, VariableType } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import { assertFormatVersion, parseInput } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import type { ExecutionContext } from '../context/execution-context.js';
import { jsonEqual, toJsonValue } from './json.js';
import { PipelineExecutionState } from './pipeline-execution-state.js';
import { PIPELINE_STATE_FORMAT_VERSION, bridgeRegisterOptionsSchema, combinedStateSchema, stateNameSchema } from './schemas.js';
import type { PipelineState } from './schemas.js';

/** Options of {@link ExecutionStateBridge}. */
export interface ExecutionStateBridgeOptions {
  /** The new-style context; its `variableManager` is the one written to. */
  executionContext: ExecutionContext;
  /** The legacy runtime state to keep in step. */
  pipelineExecutionState: PipelineExecutionState;
  /**
   * Time source of `exportedAt`.
   * @default the legacy state's clock
   */
  clock?: Clock;
}

/** Options of {@link ExecutionStateBridge.registerVariable}. */
export interface BridgeRegisterOptions {
  /**
   * What the variable is for (VariableManager side).
   * @default VariableType.INTERMEDIATE
   */
  varType?: VariableType;
  /**
   * Where the variable lives (VariableManager side).
   * @default VariableScope.GLOBAL
   */
  scope?: VariableScope;
  /** The step that produced it. */
  sourceStep?: string;
  /** Human-readable description. */
  description?: string;
  /** Tags, in both systems. */
  tags?: string[];
}

/** What a sync wrote; names whose value was already equal are only counted. */
export interface SyncReport {
  /** Variables written (by name). */
  variables: string[];
  /** Step results written (by step id). */
  results: string[];
  /** Entries skipped because the target already held an equal value. */
  unchanged: number;
}

/** `exportCombinedState()` output. */
export interface CombinedState {
  formatVersion: 1;
  /** `executionContext.exportState()`. */
  executionContext: ReturnType<ExecutionContext['exportState']>;
  /** `pipelineExecutionState.exportState()`. */
  pipelineState: PipelineState;
  /** ISO time of the export. */
  exportedAt: string;
}

// Structural, so a context from another copy of the package (or a wrapper) is accepted too.
function looksLikeContext(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const context = value as Record<string, unknown>;
  return (
    typeof context.variableManager === 'object' &&
    context.variableManager !== null &&
    ['startStep', 'completeStep', 'exportState', 'importState'].every((method) => typeof context[method] === 'function')
  );
}

/** Name of the VariableManager variable holding a step's result. */
export function stepResultVariableName(stepId: string): string {
  return `${stepId}_result`;
}

const SYNC_DESCRIPTION = 'Synced from pipeline state';

// Tells "absent" from a stored null or a caller's undefined default.
const MISSING: unique symbol = Symbol('missing');

const FINISHED: ReadonlySet<ExecutionStatus> = new Set([
  ExecutionStatus.COMPLETED,
  ExecutionStatus.FAILED,
  ExecutionStatus.CANCELLED,
]);

// Both systems must accept an id before either is written, and the legacy state is the stricter one.
function parseStepId(stepId: unknown, what: string): string {
  return parseInput(z.object({ stepId: stateNameSchema }), { stepId }, what).stepId;
}

/**
 * Writes to, reads from and synchronises the new execution context and the
 * legacy pipeline state. Reads prefer the VariableManager.
 *
 * @example
 * const bridge = new ExecutionStateBridge({ executionContext, pipelineExecutionState: legacy });
 * bridge.startStep('load');
 * bridge.registerStepResult('load', { value: 42 });   // load_result (OUTPUT) + legacy result, step completed
 * bridge.getVariable('load_value');                    // 42, from the legacy aliases
 */
export class ExecutionStateBridge {
  /** The new-style context. */
  readonly executionContext: ExecutionContext;
  /** The legacy state. */
  readonly pipelineExecutionState: PipelineExecutionState;
  readonly #clock: Clock;

  constructor(options: ExecutionStateBridgeOptions) {
    const what = 'ExecutionStateBridge options';
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new ValidationFailure('', `${what}: Expected an options object`);
    }
    const { executionContext, pipelineExecutionState } = options;
    if (!(pipelineExecutionState instanceof PipelineExecutionState)) {
      throw new ValidationFailure(
        'pipelineExecutionState',
        `${what}: invalid value at "pipelineExecutionState": Expected a PipelineExecutionState`,
      );
    }
    if (!looksLikeContext(executionContext)) {
      throw new ValidationFailure(
        'executionContext',
        `${what}: invalid value at "executionContext": Expected an ExecutionContext with a variableManager`,
      );
    }
    this.executionContext = executionContext;
    this.pipelineExecutionState = pipelineExecutionState;
    this.#clock = options.clock ?? pipelineExecutionState.clock;
  }

  get #variables(): ExecutionContext['variableManager'] {
    return this.executionContext.variableManager;
  }

  /**
   * Sets a variable in both systems under the same name. The value is
   * checked first (JSON only), so a refused value changes neither system.
   */
  registerVariable(name: string, value: unknown, options: BridgeRegisterOptions = {}): void {
    const what = 'ExecutionStateBridge.registerVariable';
    const opts = parseInput(bridgeRegisterOptionsSchema, options, `${what} options`);
    const json = toJsonValue(value, what, 'value');
    // The legacy state refuses names the VariableManager might accept: check them first.
    parseInput(z.object({ name: stateNameSchema }), { name }, what);
    this.#variables.setVariable(name, json, {
      varType: opts.varType ?? VariableType.INTERMEDIATE,
      scope: opts.scope ?? VariableScope.GLOBAL,
      ...(opts.sourceStep === undefined ? {} : { sourceStep: opts.sourceStep }),
      ...(opts.description === undefined ? {} : { description: opts.description }),
      ...(opts.tags === undefined ? {} : { tags: opts.tags }),
    });
    this.pipelineExecutionState.registerVariable(name, json, opts.tags === undefined ? {} : { tags: opts.tags });
  }

  /**
   * Records a step's result: VariableManager variable `<stepId>_result`
   * (OUTPUT, GLOBAL, `sourceStep` = stepId), the step completed in the
   * execution context (once, even if called again), and the legacy result
   * with its aliases (which also marks the legacy task executed).
   *
   * @throws ExecutionError `INVALID_STATE` when the execution has finished (nothing is written).
   */
  registerStepResult(stepId: string, result: unknown): void {
    const what = 'ExecutionStateBridge.registerStepResult';
    const id = parseStepId(stepId, what);
    const json = toJsonValue(result, what, 'result');
    // completeStep refuses a finished execution; find out before the variable is written.
    if (FINISHED.has(this.executionContext.status)) {
      throw new ExecutionError(
        ErrorCode.InvalidState,
        `${what}: execution "${this.executionContext.executionId}" is ${this.executionContext.status}`,
        { details: { executionId: this.executionContext.executionId, status: this.executionContext.status, stepId: id } },
      );
    }
    this.#variables.setVariable(stepResultVariableName(id), json, {
      varType: VariableType.OUTPUT,
      scope: VariableScope.GLOBAL,
      sourceStep: id,
      description: `Result of step "${id}"`,
      tags: ['step_result', `step:${id}`],
    });
    if (!this.executionContext.completedSteps.includes(id)) this.executionContext.completeStep(id, true);
    this.pipelineExecutionState.registerResult(id, json);
  }

  /** Starts a step in the context and moves the legacy task to running. */
  startStep(stepId: string): void {
    const id = parseStepId(stepId, 'ExecutionStateBridge.startStep');
    this.executionContext.startStep(id);
    this.pipelineExecutionState.markTaskRunning(id);
  }

  /** Fails a step in the context and marks the legacy task failed with the error's message. */
  failStep(stepId: string, error: unknown = 'Step failed'): void {
    const id = parseStepId(stepId, 'ExecutionStateBridge.failStep');
    this.executionContext.completeStep(id, false);
    this.pipelineExecutionState.markTaskFailed(id, error);
  }

  /**
   * Reads the VariableManager first (its variables, scope aliases and
   * templates), then the legacy available context (variables, results by
   * step id, their aliases, loop variables), else `defaultValue`. A stored
   * `null` is a value, not a miss.
   */
  getVariable<T = unknown>(name: string, options: { defaultValue?: T; resolveTemplates?: boolean } = {}): T | undefined {
    const fromManager: unknown = this.#variables.getVariable(name, {
      defaultValue: MISSING,
      ...(options.resolveTemplates === undefined ? {} : { resolveTemplates: options.resolveTemplates }),
    });
    if (fromManager !== MISSING) return fromManager as T;
    if (this.pipelineExecutionState.hasContextValue(name)) {
      return this.pipelineExecutionState.getContextValue<T>(name);
    }
    return options.defaultValue;
  }

  /** Whether either system knows `name` (see {@link getVariable}). */
  hasVariable(name: string): boolean {
    return (
      this.#variables.getVariable(name, { defaultValue: MISSING, resolveTemplates: false }) !== MISSING ||
      this.pipelineExecutionState.hasContextValue(name)
    );
  }

  /**
   * VariableManager -> legacy. A step result variable (`<step>_result`,
   * OUTPUT, `sourceStep` = step) becomes the legacy result of that step;
   * everything else a legacy variable of the same name. Values already equal
   * are skipped. Every value is checked before anything is written, so a
   * non-JSON value changes nothing.
   */
  syncToPipelineState(): SyncReport {
    const legacy = this.pipelineExecutionState;
    const planned: { kind: 'variable' | 'result'; name: string; value: JsonValue }[] = [];
    // Raw values and real names: reads through getVariable would follow scope aliases and templates.
    const entries = this.#variables.listVariables({ includeMetadata: true });
    for (const [name, { value: raw, metadata }] of Object.entries(entries)) {
      const value = toJsonValue(raw, 'ExecutionStateBridge.syncToPipelineState', `variables.${name}`);
      const step = metadata.sourceStep;
      if (metadata.varType === VariableType.OUTPUT && step !== null && name === stepResultVariableName(step)) {
        planned.push({ kind: 'result', name: step, value });
      } else {
        planned.push({ kind: 'variable', name, value });
      }
    }
    const report: SyncReport = { variables: [], results: [], unchanged: 0 };
    for (const entry of planned) {
      if (entry.kind === 'result') {
        if (legacy.hasResult(entry.name) && jsonEqual(legacy.getResult(entry.name), entry.value)) {
          report.unchanged += 1;
        } else {
          legacy.registerResult(entry.name, entry.value);
          report.results.push(entry.name);
        }
      } else if (legacy.hasVariable(entry.name) && jsonEqual(legacy.getVariable(entry.name), entry.value)) {
        report.unchanged += 1;
      } else {
        legacy.registerVariable(entry.name, entry.value);
        report.variables.push(entry.name);
      }
    }
    return report;
  }

  /**
   * Legacy -> VariableManager. Legacy variables become CONFIGURATION
   * variables (GLOBAL), legacy results OUTPUT variables `<step>_result` with
   * `sourceStep`. Idempotent: a variable that already holds an equal value is
   * not written, so its version does not move.
   */
  syncFromPipelineState(): SyncReport {
    const report: SyncReport = { variables: [], results: [], unchanged: 0 };
    const current = this.#variables.listVariables({ includeMetadata: true });
    const write = (name: string, value: JsonValue, options: { varType: VariableType; sourceStep?: string }): boolean => {
      if (Object.hasOwn(current, name) && jsonEqual(current[name]?.value, value)) {
        report.unchanged += 1;
        return false;
      }
      this.#variables.setVariable(name, value, { ...options, scope: VariableScope.GLOBAL, description: SYNC_DESCRIPTION });
      return true;
    };
    for (const [name, value] of Object.entries(this.pipelineExecutionState.getVariables())) {
      if (write(name, value, { varType: VariableType.CONFIGURATION })) report.variables.push(name);
    }
    for (const [stepId, value] of Object.entries(this.pipelineExecutionState.getResults())) {
      const name = stepResultVariableName(stepId);
      if (write(name, value, { varType: VariableType.OUTPUT, sourceStep: stepId })) report.results.push(stepId);
    }
    return report;
  }

  /** Both systems' exports in one versioned record. */
  exportCombinedState(): CombinedState {
    return {
      formatVersion: PIPELINE_STATE_FORMAT_VERSION,
      executionContext: this.executionContext.exportState(),
      pipelineState: this.pipelineExecutionState.exportState(),
      exportedAt: isoNow(this.#clock),
    };
  }

  /**
   * Replaces both systems from {@link exportCombinedState} output. The
   * envelope and the legacy half are checked before the context is touched,
   * and the legacy half is put back if the context refuses its half, so a
   * refused import changes nothing.
   */
  importCombinedState(state: unknown): void {
    const what = 'ExecutionStateBridge.importCombinedState';
    assertFormatVersion(state, PIPELINE_STATE_FORMAT_VERSION, what);
    const parsed = parseInput(combinedStateSchema, state, what);
    const legacy = this.pipelineExecutionState;
    const before = legacy.exportState();
    legacy.importState(parsed.pipelineState);
    try {
      this.executionContext.importState(parsed.executionContext);
    } catch (error) {
      legacy.importState(before);
      throw error;
    }
  }
}
