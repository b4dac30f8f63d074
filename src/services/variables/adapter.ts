/**
 * A `Map<string, unknown>` view of a {@link VariableManager}, for code that
 * expects a plain map of variables (the seed's dict-like adapter).
 *
 * @module
 */
import { ValidationFailure } from '../../errors.js';
import { checkOptional } from './arguments.js';
import type { SetVariableOptions } from './types.js';
import { VariableManager } from './variable-manager.js';

/** Options of the {@link VariableManagerAdapter} constructor. */
export interface VariableManagerAdapterOptions {
  /** The manager to view. */
  variableManager: VariableManager;
  /** View this context (reads fall back to the globals; writes and deletes go to the context). */
  contextId?: string | undefined;
  /**
   * Options for every `set` (scope, type, source step...).
   * @default {} (GLOBAL, INTERMEDIATE)
   */
  setOptions?: Omit<SetVariableOptions, 'contextId'> | undefined;
}

/**
 * `Map`-like access to variables: `get`/`set`/`has`/`delete`, `size`,
 * `keys`/`values`/`entries`, `forEach` and `for...of`. Reads resolve
 * templates like `getVariable`; iteration lists raw values like
 * `listVariables` (a snapshot taken when the iterator is created).
 *
 * @example
 * const vars = new VariableManagerAdapter({ variableManager });
 * vars.set('count', 3);
 * vars.get('missing', { defaultValue: 0 }); // 0
 * for (const [name, value] of vars) console.log(name, value);
 */
export class VariableManagerAdapter implements Map<string, unknown> {
  /** The viewed manager. */
  readonly variableManager: VariableManager;
  /** The viewed context, or undefined for the globals. */
  readonly contextId: string | undefined;
  private readonly setOptions: SetVariableOptions;

  constructor(options: VariableManagerAdapterOptions) {
    if (!((options as Partial<VariableManagerAdapterOptions> | undefined)?.variableManager instanceof VariableManager)) {
      throw new ValidationFailure(
        'variableManager',
        'VariableManagerAdapter options: invalid value at "variableManager": expected a VariableManager',
      );
    }
    checkOptional(options, 'contextId', 'string', 'VariableManagerAdapter options');
    this.variableManager = options.variableManager;
    this.contextId = options.contextId;
    this.setOptions = { ...options.setOptions, ...this.where() };
  }

  private where(): { contextId?: string } {
    return this.contextId === undefined ? {} : { contextId: this.contextId };
  }

  private snapshot(): Map<string, unknown> {
    return new Map(Object.entries(this.variableManager.listVariables(this.where())));
  }

  /** The value (templates resolved), or `defaultValue` / undefined. */
  get<T = unknown>(key: string, options: { defaultValue?: T | undefined } = {}): T | undefined {
    return this.variableManager.getVariable<T>(key, { ...this.where(), defaultValue: options.defaultValue });
  }

  /** Creates or updates the variable. */
  set(key: string, value: unknown): this {
    this.variableManager.setVariable(key, value, this.setOptions);
    return this;
  }

  /** Whether the variable exists. */
  has(key: string): boolean {
    return this.variableManager.hasVariable(key, this.where());
  }

  /** Deletes the variable (from the context when the adapter views one). */
  delete(key: string): boolean {
    return this.variableManager.deleteVariable(key, this.where());
  }

  /** Deletes every variable the adapter can delete (the context's only, when it views one). */
  clear(): void {
    const names = Object.keys(
      this.contextId === undefined
        ? this.variableManager.listVariables()
        : this.variableManager.exportState(this.contextId).contexts[this.contextId] ?? {},
    );
    for (const name of names) this.variableManager.deleteVariable(name, this.where());
  }

  /** Number of visible variables. */
  get size(): number {
    return Object.keys(this.variableManager.listVariables(this.where())).length;
  }

  /** Copies every entry of `values` in (the seed's `update`). */
  update(values: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(values)) this.set(key, value);
  }

  /** Calls `callback` for each entry of a snapshot. */
  forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.snapshot()) callback.call(thisArg, value, key, this);
  }

  /** Entries of a snapshot. */
  entries(): MapIterator<[string, unknown]> {
    return this.snapshot().entries();
  }

  /** Names of a snapshot. */
  keys(): MapIterator<string> {
    return this.snapshot().keys();
  }

  /** Values of a snapshot. */
  values(): MapIterator<unknown> {
    return this.snapshot().values();
  }

  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }

  readonly [Symbol.toStringTag] = 'VariableManagerAdapter';
}
