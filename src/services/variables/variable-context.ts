/**
 * An isolated variable context with a lifetime: created on construction,
 * destroyed (with everything written into it) on dispose.
 *
 * @module
 */
import { ValidationFailure } from '../../errors.js';
import type { GetVariableOptions, ListVariablesOptions, SetVariableOptions, VariableMetadata } from './types.js';
import { VariableManager } from './variable-manager.js';

/** Options of the {@link VariableContext} constructor. */
export interface VariableContextOptions {
  /** The manager that holds the context. */
  variableManager: VariableManager;
  /** Id of the context; generated when not given (an existing id is reused, and destroyed on dispose). */
  contextId?: string | undefined;
  /** Scope aliases pushed for the context's lifetime (popped on dispose). */
  aliases?: Record<string, string> | undefined;
}

/**
 * A context of a {@link VariableManager}: writes go into the context, reads
 * fall back to the globals, and {@link VariableContext.dispose} destroys it.
 * Use it with `try/finally`, or `using` where the runtime supports it.
 *
 * @example
 * const scope = new VariableContext({ variableManager });
 * try {
 *   scope.set('row', 3);
 *   scope.get('row'); // 3; variableManager.getVariable('row') is undefined
 * } finally {
 *   scope.dispose();
 * }
 */
export class VariableContext implements Disposable {
  /** The manager holding this context. */
  readonly variableManager: VariableManager;
  /** The context id (pass it as `contextId` to the manager's methods). */
  readonly contextId: string;
  private scopesPushed = 0;
  private disposed = false;

  constructor(options: VariableContextOptions) {
    if (!((options as Partial<VariableContextOptions> | undefined)?.variableManager instanceof VariableManager)) {
      throw new ValidationFailure(
        'variableManager',
        'VariableContext options: invalid value at "variableManager": expected a VariableManager',
      );
    }
    this.variableManager = options.variableManager;
    const existed = options.contextId !== undefined && this.variableManager.listContexts().includes(options.contextId);
    this.contextId = this.variableManager.createContext(options.contextId);
    if (options.aliases !== undefined) {
      try {
        this.withScope(options.aliases);
      } catch (error) {
        // Refused aliases must not leave a context behind that nobody will dispose.
        if (!existed) this.variableManager.destroyContext(this.contextId);
        throw error;
      }
    }
  }

  /** Whether {@link VariableContext.dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Writes a variable into this context. */
  set(name: string, value: unknown, options: Omit<SetVariableOptions, 'contextId'> = {}): void {
    this.variableManager.setVariable(name, value, { ...options, contextId: this.contextId });
  }

  /** Reads a variable from this context, else from the globals. */
  get<T = unknown>(name: string, options: Omit<GetVariableOptions<T>, 'contextId'> = {}): T | undefined {
    return this.variableManager.getVariable<T>(name, { ...options, contextId: this.contextId });
  }

  /** Whether the variable exists here or in the globals. */
  has(name: string): boolean {
    return this.variableManager.hasVariable(name, { contextId: this.contextId });
  }

  /** Deletes the variable from this context (never from the globals). */
  delete(name: string): boolean {
    return this.variableManager.deleteVariable(name, { contextId: this.contextId });
  }

  /** Metadata of the variable here, else in the globals. */
  getMetadata(name: string): VariableMetadata | undefined {
    return this.variableManager.getVariableMetadata(name, { contextId: this.contextId });
  }

  /** The globals plus this context's variables (which shadow them). */
  list(options: Omit<ListVariablesOptions, 'contextId'> = {}): Record<string, unknown> {
    return this.variableManager.listVariables({ ...options, contextId: this.contextId });
  }

  /** Pushes scope aliases on the manager; they are popped on dispose. Returns `this`. */
  withScope(aliases: Record<string, string>): this {
    this.variableManager.pushScope(aliases);
    this.scopesPushed++;
    return this;
  }

  /** Destroys the context and pops the scopes it pushed. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (; this.scopesPushed > 0; this.scopesPushed--) this.variableManager.popScope();
    this.variableManager.destroyContext(this.contextId);
  }

  /** Same as {@link VariableContext.dispose} (for `using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
