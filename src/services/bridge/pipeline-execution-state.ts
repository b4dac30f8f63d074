/**
 * The upstream orchestrator's legacy runtime state (Python
 * `PipelineExecutionState`), kept so that {@link ExecutionStateBridge} has a
 * real system to synchronise with. Everything it holds is JSON.
 *
 * @module
 */
import { z } from 'zod';
import { systemClock, isoNow } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { ValidationFailure } from '../../errors.js';
import { assertFormatVersion, parseInput } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { entryTags, resultAliases } from './entries.js';
import { cloneJson, toJsonValue } from './json.js';
import { loopVariables, toLoopContext } from './loop-context.js';
import {
  PIPELINE_STATE_FORMAT_VERSION,
  pipelineStateOptionsSchema,
  pipelineStateSchema,
  registerOptionsSchema,
  stateNameSchema,
} from './schemas.js';
import type { LoopContext, LoopContextInput, PipelineState, RegisterOptions } from './schemas.js';
import { TaskSets } from './task-sets.js';
import { renderTemplate } from './template.js';

/** Options of {@link PipelineExecutionState}. */
export interface PipelineExecutionStateOptions {
  /**
   * Id of the pipeline this state belongs to.
   * @default 'default'
   */
  pipelineId?: string;
  /**
   * Time source (only `startTime` reads it).
   * @default systemClock
   */
  clock?: Clock;
}

/** A variable or result found by {@link PipelineExecutionState.findByTag}. */
export interface TaggedEntry {
  /** Whether the entry is a global variable or a step result. */
  kind: 'variable' | 'result';
  /** Variable name or step id. */
  name: string;
  /** A copy of the value. */
  value: JsonValue;
  /** All tags of the entry, automatic ones first. */
  tags: string[];
}

/** Counters of {@link PipelineExecutionState.getExecutionSummary}. */
export interface PipelineExecutionSummary {
  pipelineId: string;
  startTime: string;
  variables: number;
  results: number;
  tasksExecuted: number;
  tasksPending: number;
  tasksRunning: number;
  tasksFailed: number;
  activeLoops: number;
}

function parseName(name: unknown, what: string, field = 'name'): string {
  return parseInput(z.object({ [field]: stateNameSchema }), { [field]: name }, what)[field] as string;
}

/**
 * Legacy runtime state of one pipeline run: global variables, step results
 * (with their `_result`/`_value`/`_str` aliases), named templates, tags, loop
 * iterations and the executed/pending/running/failed task sets.
 *
 * Getters return copies; `importState` replaces everything and changes
 * nothing when it refuses its input.
 *
 * @example
 * const state = new PipelineExecutionState({ pipelineId: 'etl' });
 * state.registerVariable('region', 'eu');
 * state.registerResult('load', { value: 42 });
 * state.resolveTemplate('${region}: {{ load_value }}'); // 'eu: 42'
 */
export class PipelineExecutionState {
  /** The clock this state reads. */
  readonly clock: Clock;
  #pipelineId: string;
  #startTime: string;
  #variables = new Map<string, JsonValue>();
  #results = new Map<string, JsonValue>();
  #aliases = new Map<string, JsonValue>();
  #templates = new Map<string, string>();
  #variableTags = new Map<string, string[]>();
  #resultTags = new Map<string, string[]>();
  #loopStack: LoopContext[] = [];
  #tasks = new TaskSets();

  constructor(options: PipelineExecutionStateOptions = {}) {
    const parsed = parseInput(pipelineStateOptionsSchema, options, 'PipelineExecutionState options');
    const clock = options.clock ?? systemClock;
    if (typeof (clock as Partial<Clock>).now !== 'function') {
      throw new ValidationFailure('clock', 'PipelineExecutionState options: invalid value at "clock": Expected a Clock');
    }
    this.clock = clock;
    this.#pipelineId = parsed.pipelineId ?? 'default';
    this.#startTime = isoNow(clock);
  }

  /** Id of the pipeline (replaced by `importState`). */
  get pipelineId(): string {
    return this.#pipelineId;
  }

  /** When this state was created (ISO), or the imported start time. */
  get startTime(): string {
    return this.#startTime;
  }

  /**
   * Sets a global variable. `undefined` is stored as `null`; values must be
   * JSON (anything else is refused with `INVALID_INPUT`).
   */
  registerVariable(name: string, value: unknown, options: RegisterOptions = {}): void {
    const what = 'registerVariable';
    const key = parseName(name, what);
    const { tags } = parseInput(registerOptionsSchema, options, `${what} options`);
    const json = toJsonValue(value, what, 'value');
    this.#variables.set(key, json);
    this.#variableTags.set(key, entryTags('variable', key, json, tags));
  }

  /** A copy of a global variable, or `defaultValue` when there is none. */
  getVariable<T = JsonValue>(name: string, options: { defaultValue?: T } = {}): T | undefined {
    const value = this.#variables.get(name);
    return value === undefined ? options.defaultValue : (cloneJson(value) as T);
  }

  /** Whether a global variable with this name exists. */
  hasVariable(name: string): boolean {
    return this.#variables.has(name);
  }

  /** Copies of all global variables. */
  getVariables(): Record<string, JsonValue> {
    return cloneJson(Object.fromEntries(this.#variables));
  }

  /**
   * Records a step's result, its aliases and tags (`step_result`,
   * `step:<id>`, `type:<kind>`), and marks the task executed.
   */
  registerResult(stepId: string, result: unknown, options: RegisterOptions = {}): void {
    const what = 'registerResult';
    const key = parseName(stepId, what, 'stepId');
    const { tags } = parseInput(registerOptionsSchema, options, `${what} options`);
    const json = toJsonValue(result, what, 'result');
    this.#results.set(key, json);
    for (const [alias, value] of Object.entries(resultAliases(key, json))) this.#aliases.set(alias, value);
    this.#resultTags.set(key, entryTags('result', key, json, tags));
    this.#tasks.move(key, 'executed');
  }

  /** A copy of a step's result, or `defaultValue` when it has none. */
  getResult<T = JsonValue>(stepId: string, options: { defaultValue?: T } = {}): T | undefined {
    const value = this.#results.get(stepId);
    return value === undefined ? options.defaultValue : (cloneJson(value) as T);
  }

  /** Whether a result was registered for the step. */
  hasResult(stepId: string): boolean {
    return this.#results.has(stepId);
  }

  /** Copies of all results, keyed by step id (aliases not included). */
  getResults(): Record<string, JsonValue> {
    return cloneJson(Object.fromEntries(this.#results));
  }

  /** Registers a named template; `${name}` / `{{ name }}` elsewhere renders it. */
  registerTemplate(name: string, template: string): void {
    const parsed = parseInput(
      z.object({ name: stateNameSchema, template: z.string() }),
      { name, template },
      'registerTemplate',
    );
    this.#templates.set(parsed.name, parsed.template);
  }

  /** The raw text of a named template. */
  getTemplate(name: string): string | undefined {
    return this.#templates.get(name);
  }

  /**
   * Renders `${path}` and `{{ path }}` placeholders against the available
   * context (plus `extra`, which wins), then named templates. Dotted paths
   * walk into objects and arrays; unknown names stay literal.
   */
  resolveTemplate(template: string, extra: Record<string, unknown> = {}): string {
    const parsed = parseInput(
      z.object({ template: z.string(), extra: z.record(z.string(), z.unknown()) }),
      { template, extra },
      'resolveTemplate',
    );
    const context = Object.assign(this.#context(), parsed.extra);
    return renderTemplate(parsed.template, { context, templates: this.#templates });
  }

  /** Tags of a variable (`kind` 'variable') or result (`kind` 'result'). */
  getTags(kind: 'variable' | 'result', name: string): string[] {
    return [...((kind === 'variable' ? this.#variableTags : this.#resultTags).get(name) ?? [])];
  }

  /** Variables, then results, carrying `tag`. */
  findByTag(tag: string): TaggedEntry[] {
    const found: TaggedEntry[] = [];
    const collect = (kind: TaggedEntry['kind'], tags: Map<string, string[]>, values: Map<string, JsonValue>) => {
      for (const [name, list] of tags) {
        const value = values.get(name);
        if (list.includes(tag) && value !== undefined) found.push({ kind, name, value: cloneJson(value), tags: [...list] });
      }
    };
    collect('variable', this.#variableTags, this.#variables);
    collect('result', this.#resultTags, this.#results);
    return found;
  }

  /** Enters a loop iteration; its `$item`, `$index`, ... become visible. */
  pushLoopContext(input: LoopContextInput): LoopContext {
    const loop = toLoopContext(input);
    this.#loopStack.push(loop);
    return cloneJson(loop);
  }

  /** Leaves the innermost loop iteration; undefined when none is active. */
  popLoopContext(): LoopContext | undefined {
    return this.#loopStack.pop();
  }

  /** The innermost loop iteration. */
  get currentLoopContext(): LoopContext | undefined {
    const current = this.#loopStack.at(-1);
    return current === undefined ? undefined : cloneJson(current);
  }

  /** Active loop iterations, outermost first. */
  get loopContexts(): LoopContext[] {
    return cloneJson(this.#loopStack);
  }

  /** Marks a task as waiting to run. */
  markTaskPending(taskId: string): void {
    this.#tasks.move(parseName(taskId, 'markTaskPending', 'taskId'), 'pending');
  }

  /** Marks a task as running (it leaves pending, or failed on a retry). */
  markTaskRunning(taskId: string): void {
    this.#tasks.move(parseName(taskId, 'markTaskRunning', 'taskId'), 'running');
  }

  /** Marks a task as executed (registerResult does it too). */
  markTaskExecuted(taskId: string): void {
    this.#tasks.move(parseName(taskId, 'markTaskExecuted', 'taskId'), 'executed');
  }

  /** Marks a task as failed, keeping the error's message. */
  markTaskFailed(taskId: string, error: unknown = 'Task failed'): void {
    this.#tasks.fail(parseName(taskId, 'markTaskFailed', 'taskId'), error);
  }

  /** Ids of executed tasks, in the order they finished. */
  get executedTasks(): string[] {
    return this.#tasks.list('executed');
  }

  /** Ids of pending tasks. */
  get pendingTasks(): string[] {
    return this.#tasks.list('pending');
  }

  /** Ids of running tasks. */
  get runningTasks(): string[] {
    return this.#tasks.list('running');
  }

  /** Ids of failed tasks. */
  get failedTasks(): string[] {
    return this.#tasks.list('failed');
  }

  /** The error message a failed task was marked with. */
  getTaskError(taskId: string): string | undefined {
    return this.#tasks.errorOf(taskId);
  }

  /**
   * One flat object for template rendering: variables, then results (keyed
   * by step id), then their aliases, then the current loop's variables; a
   * later source wins on a name clash.
   */
  getAvailableContext(): Record<string, JsonValue> {
    return cloneJson(this.#context());
  }

  /** Whether `name` is in {@link getAvailableContext}. */
  hasContextValue(name: string): boolean {
    return Object.hasOwn(this.#context(), name);
  }

  /** A copy of `name` from {@link getAvailableContext}, or `defaultValue`. */
  getContextValue<T = JsonValue>(name: string, options: { defaultValue?: T } = {}): T | undefined {
    const context = this.#context();
    return Object.hasOwn(context, name) ? (cloneJson(context[name] ?? null) as T) : options.defaultValue;
  }

  /** Counters, as the upstream's `get_execution_summary`. */
  getExecutionSummary(): PipelineExecutionSummary {
    return {
      pipelineId: this.#pipelineId,
      startTime: this.#startTime,
      variables: this.#variables.size,
      results: this.#results.size,
      tasksExecuted: this.#tasks.list('executed').length,
      tasksPending: this.#tasks.list('pending').length,
      tasksRunning: this.#tasks.list('running').length,
      tasksFailed: this.#tasks.list('failed').length,
      activeLoops: this.#loopStack.length,
    };
  }

  /** Everything as JSON (`formatVersion: 1`); aliases are derived again on import. */
  exportState(): PipelineState {
    return cloneJson({
      formatVersion: PIPELINE_STATE_FORMAT_VERSION,
      pipelineId: this.#pipelineId,
      startTime: this.#startTime,
      variables: Object.fromEntries(this.#variables),
      results: Object.fromEntries(this.#results),
      templates: Object.fromEntries(this.#templates),
      tags: { variables: Object.fromEntries(this.#variableTags), results: Object.fromEntries(this.#resultTags) },
      loopStack: this.#loopStack,
      tasks: this.#tasks.toJSON(),
    });
  }

  /**
   * Replaces the whole state with an exported one. A newer `formatVersion`
   * is refused with `STATE_INCOMPATIBLE`, anything malformed (or carrying
   * `__proto__`/`constructor` keys) with `INVALID_INPUT` naming the field;
   * either way nothing changes.
   */
  importState(state: unknown): void {
    const what = 'PipelineExecutionState.importState';
    assertFormatVersion(state, PIPELINE_STATE_FORMAT_VERSION, what);
    const parsed = parseInput(pipelineStateSchema, state, what);
    const aliases = new Map<string, JsonValue>();
    for (const [stepId, result] of Object.entries(parsed.results)) {
      for (const [alias, value] of Object.entries(resultAliases(stepId, result))) aliases.set(alias, value);
    }
    this.#pipelineId = parsed.pipelineId;
    this.#startTime = parsed.startTime;
    this.#variables = new Map(Object.entries(parsed.variables));
    this.#results = new Map(Object.entries(parsed.results));
    this.#aliases = aliases;
    this.#templates = new Map(Object.entries(parsed.templates));
    this.#variableTags = new Map(Object.entries(parsed.tags.variables));
    this.#resultTags = new Map(Object.entries(parsed.tags.results));
    this.#loopStack = parsed.loopStack;
    this.#tasks = new TaskSets(parsed.tasks);
  }

  #context(): Record<string, JsonValue> {
    return Object.assign(
      {},
      Object.fromEntries(this.#variables),
      Object.fromEntries(this.#results),
      Object.fromEntries(this.#aliases),
      loopVariables(this.#loopStack),
    ) as Record<string, JsonValue>;
  }
}
