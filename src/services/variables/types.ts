/**
 * Public types of the variable service: metadata, events and option bags.
 *
 * @module
 */
import type { Clock } from '../../clock.js';
import type { VariableScope, VariableType } from '../../constants.js';

/**
 * What the manager knows about one variable. Returned objects are frozen
 * snapshots: an update replaces the snapshot, it never changes one in place.
 */
export interface VariableMetadata {
  /** The variable's name (its key in its context or in the globals). */
  readonly name: string;
  /** Where the variable lives. */
  readonly scope: VariableScope;
  /** What the variable is for. */
  readonly varType: VariableType;
  /** ISO-8601 time of creation, from the manager's clock. */
  readonly createdAt: string;
  /** ISO-8601 time of the latest write, from the manager's clock. */
  readonly updatedAt: string;
  /** The step that wrote it last (kept when an update does not say). */
  readonly sourceStep: string | null;
  /** Human-readable description (kept when an update does not say). */
  readonly description: string | null;
  /** Tags, without duplicates, in first-seen order (kept when an update does not say). */
  readonly tags: readonly string[];
  /** 1 on creation, +1 for every later `setVariable` of the same variable. */
  readonly version: number;
}

/** Passed to `onVariableCreated` / `onVariableChanged` handlers. */
export interface VariableEvent {
  /** The variable's name. */
  readonly name: string;
  /** The value now stored (frozen). */
  readonly value: unknown;
  /** The value before this write; `undefined` for a creation. */
  readonly previousValue: unknown;
  /** Metadata after this write. */
  readonly metadata: VariableMetadata;
  /** The context written to, or `null` for a global variable. */
  readonly contextId: string | null;
}

/** A handler of {@link VariableEvent}s. */
export type VariableEventHandler = (event: VariableEvent) => void;

/** What `onVariableDeleted` handlers receive. */
export interface VariableDeletedEvent {
  /** The deleted variable's name. */
  readonly name: string;
  /** Its value before the deletion. */
  readonly previousValue: unknown;
  /** The context deleted from, or `null` for a global variable. */
  readonly contextId: string | null;
}

/** A `VariableManager.onVariableDeleted` handler. */
export type VariableDeletedHandler = (event: VariableDeletedEvent) => void;

/** Options of `VariableManager.setVariable`. */
export interface SetVariableOptions {
  /**
   * Where the variable lives. On an update, omitted means "keep".
   * @default VariableScope.GLOBAL
   */
  scope?: VariableScope | undefined;
  /**
   * What the variable is for. On an update, omitted means "keep".
   * @default VariableType.INTERMEDIATE
   */
  varType?: VariableType | undefined;
  /** The step writing it. On an update, omitted means "keep". */
  sourceStep?: string | null | undefined;
  /** Human-readable description. On an update, omitted means "keep". */
  description?: string | null | undefined;
  /** Tags. On an update, omitted means "keep". */
  tags?: readonly string[] | undefined;
  /** Write into this context (made by `createContext`) instead of the globals. */
  contextId?: string | undefined;
}

/** Options of `VariableManager.getVariable`. */
export interface GetVariableOptions<T = unknown> {
  /** Returned when nothing is found. */
  defaultValue?: T | undefined;
  /** Look in this context first, then in the globals. */
  contextId?: string | undefined;
  /**
   * Resolve `${name}` placeholders in a string value (and evaluate a template
   * registered with `setTemplate`). False returns the raw string.
   * @default true
   */
  resolveTemplates?: boolean | undefined;
}

/** Options naming a context (reads fall back to the globals). */
export interface ContextOptions {
  /** The context to look in (then the globals), or to delete from. */
  contextId?: string | undefined;
}

/** Options of `VariableManager.listVariables`. */
export interface ListVariablesOptions {
  /** Only variables of this scope. */
  scope?: VariableScope | undefined;
  /** Only variables of this type. */
  varType?: VariableType | undefined;
  /** Include this context's variables (they shadow globals of the same name). */
  contextId?: string | undefined;
  /**
   * Return `{ value, metadata }` per name instead of the bare value.
   * @default false
   */
  includeMetadata?: boolean | undefined;
}

/** One entry of `listVariables({ includeMetadata: true })` and of exported state. */
export interface VariableEntry<V = unknown> {
  /** The stored (frozen) value. */
  readonly value: V;
  /** Its metadata. */
  readonly metadata: VariableMetadata;
}

/** Options of the {@link VariableManager} constructor. */
export interface VariableManagerOptions {
  /**
   * The pipeline these variables belong to.
   * @default 'default'
   */
  pipelineId?: string | undefined;
  /**
   * Source of `createdAt` / `updatedAt`.
   * @default systemClock
   */
  clock?: Clock | undefined;
  /**
   * Receives what an event handler threw (the write itself always succeeds).
   * @default logs with `console.error`
   */
  onHandlerError?: ((error: unknown, event: VariableEvent) => void) | undefined;
}
