/**
 * The variable service of an execution: named JSON values with metadata,
 * isolated contexts, scope aliases, `${name}` templates, a dependency graph,
 * change events and a versioned JSON export.
 *
 * @module
 */
import { nanoid } from 'nanoid';
import { systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { VariableScope, VariableType } from '../../constants.js';
import { ErrorCode, ExecutionError } from '../../errors.js';
import { parseInput } from '../../validation.js';
import {
  aliasesSchema,
  checkHandler,
  checkName,
  checkOptional,
  checkStorableName,
  checkString,
  isValidSetOptions,
  dependsOnSchema,
  extraSchema,
  listVariablesOptionsSchema,
  managerOptionsSchema,
  setVariableOptionsSchema,
} from './arguments.js';
import { DependencyGraph } from './dependency-graph.js';
import { HandlerList } from './handlers.js';
import { ScopeStack } from './scope-stack.js';
import { toFrozenJson } from './json-value.js';
import { resolveTemplateString } from './templates.js';
import type { TemplateLookup } from './templates.js';
import type {
  ContextOptions,
  GetVariableOptions,
  ListVariablesOptions,
  SetVariableOptions,
  VariableEntry,
  VariableDeletedEvent,
  VariableDeletedHandler,
  VariableEvent,
  VariableEventHandler,
  VariableManagerOptions,
  VariableMetadata,
} from './types.js';
import { exportTable, parseVariableState, storedVariable } from './variable-state.js';
import type { StoredVariable, VariableState, VariableTable } from './variable-state.js';

// Re-exported so that importers of this file (the contract names it) find the types too.
export type * from './types.js';
export type { VariableState } from './variable-state.js';

const NO_OPTIONS: Readonly<Record<string, undefined>> = Object.freeze({});

function defaultHandlerError(error: unknown, event: VariableEvent): void {
  console.error(`[VariableManager] an event handler for "${event.name}" threw`, error);
}

/**
 * Named variables of one pipeline execution.
 *
 * Semantics worth knowing:
 * - **Values are JSON** (null, booleans, finite numbers, strings, arrays,
 *   plain objects): anything else (functions, BigInt, NaN/Infinity,
 *   `undefined`, Dates, Maps, class instances, cycles, `__proto__` /
 *   `constructor` / `prototype` keys) is refused with `INVALID_INPUT`, because
 *   checkpoints must round-trip through JSON. `setVariable` stores a
 *   deep-frozen copy; reads return that stored value without copying, so a
 *   caller cannot change it by accident (writes to it throw in strict mode).
 * - **Lookup order** of a read: scope aliases (innermost `pushScope` first;
 *   an alias target may be an alias of an outer scope), then a template of
 *   that name, then the given context, then the globals. Aliases are read
 *   views: writes and deletes use real names.
 * - **Contexts** are isolated tables; a read in a context falls back to the
 *   globals. Naming a context that does not exist (never created or
 *   destroyed) throws `CONTEXT_NOT_FOUND`, except `destroyContext` (false).
 * - **Templates**: `${name}` placeholders are resolved on every read (no
 *   cache, so nothing goes stale); unknown names stay literal; dotted paths
 *   reach into object values (`${data_info.customers}`, `${rows.0.id}`);
 *   a string value containing placeholders is resolved in turn.
 * - **Updates** keep `createdAt`, bump `version` and `updatedAt`, and keep any
 *   metadata field the update does not mention.
 * - All operations are synchronous, so concurrent async tasks never see a
 *   half-done write; use {@link VariableManager.updateVariable} for
 *   read-modify-write.
 *
 * @example
 * const variables = new VariableManager({ pipelineId: 'etl' });
 * variables.setVariable('customer_count', 1500, { varType: VariableType.OUTPUT, sourceStep: 'load' });
 * variables.resolveTemplate('Loaded ${customer_count} customers'); // 'Loaded 1500 customers'
 */
export class VariableManager {
  private currentPipelineId: string;
  private readonly clock: Clock;
  private globals: VariableTable = new Map();
  private contexts = new Map<string, VariableTable>();
  private templates = new Map<string, string>();
  private graph = new DependencyGraph();
  private readonly scopes = new ScopeStack();
  private readonly created: HandlerList<VariableEvent>;
  private readonly changed: HandlerList<VariableEvent>;
  private readonly deleted: HandlerList<VariableDeletedEvent>;
  private stampMs = Number.NaN;
  private stamp = '';

  constructor(options: VariableManagerOptions = {}) {
    const parsed = parseInput(managerOptionsSchema, options, 'VariableManager options');
    this.currentPipelineId = parsed.pipelineId ?? 'default';
    this.clock = parsed.clock ?? systemClock;
    const report = parsed.onHandlerError ?? defaultHandlerError;
    this.created = new HandlerList(report);
    this.changed = new HandlerList(report);
    // The reporter takes the event only to describe it; a deletion event has the same name field.
    this.deleted = new HandlerList<VariableDeletedEvent>((error, event) => {
      report(error, event as unknown as VariableEvent);
    });
  }

  /** The pipeline these variables belong to (replaced by `importState`). */
  get pipelineId(): string {
    return this.currentPipelineId;
  }

  /**
   * Creates or updates a variable (see the class notes for what a value may be).
   * Fires `onVariableCreated` or `onVariableChanged` once, after the write.
   *
   * @throws ValidationFailure `INVALID_INPUT` for an empty name, a bad option or a non-JSON value.
   * @throws ExecutionError `CONTEXT_NOT_FOUND` for an unknown `contextId`.
   */
  setVariable(name: string, value: unknown, options?: SetVariableOptions): void {
    checkStorableName(name, 'setVariable');
    const what = `setVariable(${JSON.stringify(name)})`;
    const opts =
      options === undefined
        ? NO_OPTIONS
        : isValidSetOptions(options)
          ? options
          : parseInput(setVariableOptionsSchema, options, `${what} options`);
    const contextId = opts.contextId ?? null;
    const table = contextId === null ? this.globals : this.requireContext(contextId, what);
    const frozen = toFrozenJson(value, 'value', what);
    const previous = table.get(name);
    const now = this.timestamp();
    const before = previous?.metadata;
    const metadata: VariableMetadata = {
      name,
      scope: opts.scope ?? before?.scope ?? VariableScope.GLOBAL,
      varType: opts.varType ?? before?.varType ?? VariableType.INTERMEDIATE,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
      sourceStep: opts.sourceStep === undefined ? (before?.sourceStep ?? null) : opts.sourceStep,
      description: opts.description === undefined ? (before?.description ?? null) : opts.description,
      tags: opts.tags === undefined ? (before?.tags ?? []) : [...new Set(opts.tags)],
      version: before === undefined ? 1 : before.version + 1,
    };
    const stored = storedVariable(frozen, metadata);
    table.set(name, stored);
    const handlers = previous === undefined ? this.created : this.changed;
    if (handlers.active) {
      handlers.emit({ name, value: stored.value, previousValue: previous?.value, metadata: stored.metadata, contextId });
    }
  }

  /**
   * Atomic read-modify-write: `updater` gets the current raw value in the
   * target table (`undefined` when absent) and returns the new value, which is
   * stored like {@link VariableManager.setVariable}. Returns the stored value.
   *
   * @example
   * await Promise.all(tasks.map(async () => { await work(); variables.updateVariable('done', (n) => Number(n ?? 0) + 1); }));
   */
  updateVariable(name: string, updater: (current: unknown) => unknown, options?: SetVariableOptions): unknown {
    checkStorableName(name, 'updateVariable');
    const what = `updateVariable(${JSON.stringify(name)})`;
    checkHandler(updater, what);
    checkOptional(options, 'contextId', 'string', `${what} options`);
    const contextId = options?.contextId;
    const table = contextId === undefined ? this.globals : this.requireContext(contextId, what);
    this.setVariable(name, updater(table.get(name)?.value), options);
    return table.get(name)?.value;
  }

  /**
   * Reads a variable (see the class notes for the lookup order). A string
   * value with placeholders is resolved unless `resolveTemplates` is false;
   * the name of a template registered with `setTemplate` reads its resolved
   * text (its raw text with `resolveTemplates: false`).
   *
   * @returns the stored (frozen, not copied) value, or `defaultValue`.
   * @throws ExecutionError `CONTEXT_NOT_FOUND` for an unknown `contextId`.
   */
  getVariable<T = unknown>(name: string, options?: GetVariableOptions<T>): T | undefined {
    checkName(name, 'getVariable');
    checkOptional(options, 'contextId', 'string', 'getVariable options');
    checkOptional(options, 'resolveTemplates', 'boolean', 'getVariable options');
    const contextId = options?.contextId;
    const table = contextId === undefined ? undefined : this.requireContext(contextId, 'getVariable');
    const resolve = options?.resolveTemplates ?? true;
    const real = this.scopes.resolve(name);
    const template = this.templates.size === 0 ? undefined : this.templates.get(real);
    if (template !== undefined) {
      return (resolve ? this.resolveIn(template, table, real) : template) as T;
    }
    const stored = table?.get(real) ?? this.globals.get(real);
    if (stored === undefined) return options?.defaultValue;
    if (resolve && stored.templated) return this.resolveIn(stored.value as string, table, real) as T;
    return stored.value as T;
  }

  /** The variable's metadata (a frozen snapshot), or undefined. Aliases are followed. */
  getVariableMetadata(name: string, options?: ContextOptions): VariableMetadata | undefined {
    return this.lookup(name, options, 'getVariableMetadata')?.metadata;
  }

  /** Whether a variable exists (aliases followed; templates are not variables). */
  hasVariable(name: string, options?: ContextOptions): boolean {
    return this.lookup(name, options, 'hasVariable') !== undefined;
  }

  /**
   * Deletes a global variable, or with `contextId` only that context's
   * variable (the global of the same name stays). Returns whether one existed.
   * Dependencies and templates of that name are kept.
   */
  deleteVariable(name: string, options?: ContextOptions): boolean {
    checkName(name, 'deleteVariable');
    checkOptional(options, 'contextId', 'string', 'deleteVariable options');
    const contextId = options?.contextId;
    const table = contextId === undefined ? this.globals : this.requireContext(contextId, 'deleteVariable');
    const previous = table.get(name);
    if (!table.delete(name)) return false;
    if (this.deleted.active) this.deleted.emit({ name, previousValue: previous?.value, contextId: contextId ?? null });
    return true;
  }

  /**
   * Variables by name: the globals, plus a context's variables (which shadow
   * globals of the same name), filtered by scope and type. Values are raw
   * (placeholders not resolved) and not copied.
   */
  listVariables(options: ListVariablesOptions & { includeMetadata: true }): Record<string, VariableEntry>;
  listVariables(options?: ListVariablesOptions): Record<string, unknown>;
  listVariables(options?: ListVariablesOptions): Record<string, unknown> {
    const opts = options === undefined ? NO_OPTIONS : parseInput(listVariablesOptionsSchema, options, 'listVariables options');
    const context = opts.contextId === undefined ? undefined : this.requireContext(opts.contextId, 'listVariables');
    const out: Record<string, unknown> = {};
    for (const table of context === undefined ? [this.globals] : [this.globals, context]) {
      for (const [name, stored] of table) {
        const { scope, varType } = stored.metadata;
        if (opts.scope !== undefined && scope !== opts.scope) continue;
        if (opts.varType !== undefined && varType !== opts.varType) continue;
        out[name] = opts.includeMetadata === true ? { value: stored.value, metadata: stored.metadata } : stored.value;
      }
    }
    return out;
  }

  /**
   * Creates an isolated context and returns its id (generated when not given).
   * Creating an id that exists already keeps it as it is.
   */
  createContext(contextId?: string): string {
    if (contextId !== undefined) checkStorableName(contextId, 'createContext', 'contextId');
    let id = contextId;
    while (id === undefined || (contextId === undefined && this.contexts.has(id))) id = `ctx_${nanoid(12)}`;
    if (!this.contexts.has(id)) this.contexts.set(id, new Map());
    return id;
  }

  /** Destroys a context with all its variables; false when it did not exist. */
  destroyContext(contextId: string): boolean {
    checkName(contextId, 'destroyContext', 'contextId');
    return this.contexts.delete(contextId);
  }

  /** Ids of the existing contexts, in creation order. */
  listContexts(): string[] {
    return [...this.contexts.keys()];
  }

  /**
   * Pushes scope aliases: while pushed, reading `alias` reads `aliases[alias]`
   * (aliases shadow real variables of the same name).
   *
   * @example
   * variables.pushScope({ item: 'items_3' });
   * try { variables.getVariable('item'); } finally { variables.popScope(); }
   */
  pushScope(aliases: Record<string, string>): void {
    const parsed = parseInput(aliasesSchema, aliases, 'pushScope aliases');
    this.scopes.push(parsed);
  }

  /** Removes the innermost scope and returns its aliases; undefined when none is pushed. */
  popScope(): Record<string, string> | undefined {
    return this.scopes.pop();
  }

  /**
   * Registers a template variable: reading `name` resolves `template` against
   * the current variables, every time (nested templates included).
   */
  setTemplate(name: string, template: string): void {
    checkStorableName(name, 'setTemplate');
    checkString(template, 'setTemplate', 'template');
    this.templates.set(name, template);
  }

  /**
   * Replaces `${name}` placeholders with current values (rules in the class
   * notes). `extra` values win over variables for this call.
   *
   * @example
   * variables.resolveTemplate('${greeting}, ${user.name}!', { greeting: 'Hello' });
   */
  resolveTemplate(template: string, extra?: Record<string, unknown>, options?: ContextOptions): string {
    checkString(template, 'resolveTemplate', 'template');
    const values = extra === undefined ? undefined : parseInput(extraSchema, extra, 'resolveTemplate extra');
    checkOptional(options, 'contextId', 'string', 'resolveTemplate options');
    const contextId = options?.contextId;
    const table = contextId === undefined ? undefined : this.requireContext(contextId, 'resolveTemplate');
    return resolveTemplateString(template, this.lookupFn(table), values);
  }

  /**
   * Records that `name` depends on `dependsOn` (one name or several; all or nothing).
   *
   * @throws ExecutionError `DEPENDENCY_CYCLE` naming the cycle (`a -> b -> a`); nothing is added.
   */
  addDependency(name: string, dependsOn: string | readonly string[]): void {
    checkStorableName(name, 'addDependency');
    const parsed = parseInput(dependsOnSchema, dependsOn, 'addDependency dependsOn');
    this.graph.add(name, typeof parsed === 'string' ? [parsed] : parsed);
  }

  /** What `name` depends on, in insertion order. */
  getDependencies(name: string): string[] {
    checkName(name, 'getDependencies');
    return this.graph.dependenciesOf(name);
  }

  /** What depends on `name`, in insertion order. */
  getDependents(name: string): string[] {
    checkName(name, 'getDependents');
    return this.graph.dependentsOf(name);
  }

  /** Calls `handler` once per new variable (also when its value is null). Returns an unsubscribe function. */
  onVariableCreated(handler: VariableEventHandler): () => void {
    checkHandler(handler, 'onVariableCreated');
    return this.created.add(handler);
  }

  /** Calls `handler` once per deleted variable (a durable manager journals deletions with it). Returns an unsubscribe function. */
  onVariableDeleted(handler: VariableDeletedHandler): () => void {
    checkHandler(handler, 'onVariableDeleted');
    return this.deleted.add(handler);
  }

  /** Calls `handler` once per update of an existing variable. Returns an unsubscribe function. */
  onVariableChanged(handler: VariableEventHandler): () => void {
    checkHandler(handler, 'onVariableChanged');
    return this.changed.add(handler);
  }

  /**
   * Everything as JSON: globals, templates, dependencies and all contexts (or
   * only `contextId`). Values and metadata are shared frozen snapshots.
   * Scope aliases and handlers are runtime wiring and are not exported.
   */
  exportState(contextId?: string): VariableState {
    const contexts: VariableState['contexts'] = {};
    if (contextId === undefined) {
      for (const [id, table] of this.contexts) contexts[id] = exportTable(table);
    } else {
      contexts[contextId] = exportTable(this.requireContext(contextId, 'exportState'));
    }
    return {
      formatVersion: 1,
      pipelineId: this.currentPipelineId,
      variables: exportTable(this.globals),
      templates: Object.fromEntries(this.templates),
      dependencies: this.graph.toJSON(),
      contexts,
    };
  }

  /**
   * Replaces everything (never merges) with a state from `exportState`,
   * adopting its `pipelineId`. Fires no events; keeps handlers and scopes.
   *
   * @throws ValidationFailure `STATE_INCOMPATIBLE` (newer `formatVersion`),
   *   `DEPENDENCY_CYCLE` or `INVALID_INPUT`, naming the field; nothing changes.
   */
  importState(state: unknown): void {
    const parsed = parseVariableState(state);
    this.currentPipelineId = parsed.pipelineId;
    this.globals = parsed.globals;
    this.contexts = parsed.contexts;
    this.templates = parsed.templates;
    this.graph = parsed.graph;
  }

  /** ISO time from the clock; many writes share a millisecond, so the string is reused. */
  private timestamp(): string {
    const ms = this.clock.now();
    if (ms !== this.stampMs) {
      this.stamp = new Date(ms).toISOString();
      this.stampMs = ms;
    }
    return this.stamp;
  }

  private requireContext(contextId: string, what: string): VariableTable {
    const table = this.contexts.get(contextId);
    if (table === undefined) {
      throw new ExecutionError(
        ErrorCode.ContextNotFound,
        `${what}: no variable context "${contextId}" (never created, or destroyed)`,
        { details: { contextId } },
      );
    }
    return table;
  }

  private lookup(name: string, options: ContextOptions | undefined, what: string): StoredVariable | undefined {
    checkName(name, what);
    checkOptional(options, 'contextId', 'string', `${what} options`);
    const contextId = options?.contextId;
    const table = contextId === undefined ? undefined : this.requireContext(contextId, what);
    const real = this.scopes.resolve(name);
    return table?.get(real) ?? this.globals.get(real);
  }

  private lookupFn(table: VariableTable | undefined): TemplateLookup {
    return (name) => {
      const real = this.scopes.resolve(name);
      const template = this.templates.get(real);
      if (template !== undefined) return { value: template };
      const stored = table?.get(real) ?? this.globals.get(real);
      return stored === undefined ? undefined : { value: stored.value };
    };
  }

  private resolveIn(template: string, table: VariableTable | undefined, self: string): string {
    return resolveTemplateString(template, this.lookupFn(table), undefined, new Set([self]));
  }
}
