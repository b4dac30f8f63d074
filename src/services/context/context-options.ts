/**
 * Boundary checks of `ExecutionContext`: its options, checkpoint arguments,
 * and the isolation of user handlers.
 *
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { PersistenceFormat } from '../../constants.js';
import type { ExecutionStatus } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';
import { formatPath, idSchema, parseInput } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { VariableManager } from '../variables/variable-manager.js';
import type { Checkpoint } from './checkpoint.js';
import type { ExecutionContext } from './execution-context.js';

/** Told when a handler throws; `source` names the subscription (`onStepEvent`...). */
export type HandlerErrorReporter = (error: unknown, source: string) => void;

/** What happened to a step, as told to {@link ExecutionContext.onStepEvent} handlers. */
export type ContextStepEvent = 'started' | 'completed' | 'failed' | 'skipped';
/** Handler of {@link ExecutionContext.onStepEvent}. */
export type StepEventHandler = (stepId: string, event: ContextStepEvent) => void;
/** Handler of {@link ExecutionContext.onStatusChange}. */
export type StatusChangeHandler = (executionId: string, status: ExecutionStatus) => void;
/** Handler of {@link ExecutionContext.onCheckpointRestored}; gets a mutable copy of the checkpoint. */
export type CheckpointRestoredHandler = (checkpoint: Checkpoint) => void;

/** Options of {@link ExecutionContext} and {@link createExecutionContext}. */
export interface ExecutionContextOptions {
  /** Id of this execution (also the prefix of its state files). */
  executionId: string;
  pipelineId: string;
  /**
   * The variables of this execution (shared with the caller when given).
   * @default a new VariableManager({ pipelineId, clock })
   */
  variableManager?: VariableManager;
  /**
   * Source of every timestamp and duration.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Checkpoints kept in memory; the oldest is dropped beyond this.
   * @default 10
   */
  maxCheckpoints?: number;
  /** Directory for {@link ExecutionContext.saveState}; without it `saveState` throws `INVALID_STATE`. */
  stateDir?: string;
  /**
   * File format of `saveState`.
   * @default PersistenceFormat.JSON
   */
  format?: PersistenceFormat;
  /** The context this one is nested in (set by {@link ExecutionContext.createNestedContext}). */
  parent?: ExecutionContext;
  /**
   * Told when a handler throws (the context itself carries on).
   * @default logs with console.error
   */
  onHandlerError?: HandlerErrorReporter;
}

/** Default {@link HandlerErrorReporter}: a throwing handler is logged, never rethrown. */
export const reportHandlerError: HandlerErrorReporter = (error, source) => {
  console.error(`ExecutionContext: a ${source} handler threw`, error);
};

/** Runs a handler; whatever it throws goes to `report` (and a throwing reporter is ignored). */
export function safeCall(report: HandlerErrorReporter, source: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    try {
      report(error, source);
    } catch {
      // The reporter is the last line; nothing sensible is left to tell.
    }
  }
}

/**
 * Subscribers of one kind of event. Each subscription is its own entry (the
 * same function subscribed twice is called twice); a throwing subscriber is
 * reported and the others still run.
 */
export class HandlerSet<Args extends unknown[]> {
  readonly #entries = new Set<{ handler: (...args: Args) => void }>();

  constructor(
    private readonly source: string,
    private readonly report: HandlerErrorReporter,
  ) {}

  /** Adds a handler; returns its unsubscribe function. A non-function -> `INVALID_INPUT`. */
  add(handler: (...args: Args) => void): () => void {
    if (typeof handler !== 'function') {
      throw new ValidationFailure('handler', `${this.source}: invalid value at "handler": expected a function`);
    }
    const entry = { handler };
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  /** Calls every handler subscribed now. */
  emit(...args: Args): void {
    for (const entry of [...this.#entries]) {
      safeCall(this.report, this.source, () => {
        entry.handler(...args);
      });
    }
  }
}

const plainOptionsSchema = z.strictObject({
  executionId: idSchema,
  pipelineId: idSchema,
  maxCheckpoints: z.number().int().min(1).optional(),
  stateDir: z.string().min(1, { message: 'Expected a non-empty directory path' }).optional(),
  format: z.enum(PersistenceFormat).optional(),
});

const OBJECT_OPTIONS = ['variableManager', 'clock', 'parent', 'onHandlerError'] as const;

function isClock(value: unknown): value is Clock {
  if (typeof value !== 'object' || value === null) return false;
  const clock = value as Partial<Record<keyof Clock, unknown>>;
  return typeof clock.now === 'function' && typeof clock.setTimeout === 'function' && typeof clock.clearTimeout === 'function';
}

function isContext(value: unknown): value is ExecutionContext {
  return typeof value === 'object' && value !== null && typeof (value as { exportState?: unknown }).exportState === 'function';
}

/** Validated options (optional fields may be undefined). */
export type ResolvedContextOptions = { [K in keyof ExecutionContextOptions]?: ExecutionContextOptions[K] | undefined } & {
  executionId: string;
  pipelineId: string;
};

/**
 * Validates constructor options. The object-valued options are checked by
 * kind only; walking a live VariableManager as if it were data would be wrong.
 */
export function parseContextOptions(options: ExecutionContextOptions, what: string): ResolvedContextOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    return parseInput(plainOptionsSchema, options, what);
  }
  const plain: Record<string, unknown> = { ...options };
  for (const key of OBJECT_OPTIONS) Reflect.deleteProperty(plain, key);
  const parsed = parseInput(plainOptionsSchema, plain, what);
  const { variableManager, clock, parent, onHandlerError } = options;
  const fail = (field: string, expected: string): never => {
    throw new ValidationFailure(field, `${what}: invalid value at "${field}": expected ${expected}`);
  };
  if (variableManager !== undefined && !(variableManager instanceof VariableManager)) fail('variableManager', 'a VariableManager');
  if (clock !== undefined && !isClock(clock)) fail('clock', 'a Clock (now, setTimeout, clearTimeout)');
  if (parent !== undefined && !isContext(parent)) fail('parent', 'an ExecutionContext');
  if (onHandlerError !== undefined && typeof onHandlerError !== 'function') fail('onHandlerError', 'a function');
  return {
    ...parsed,
    ...(variableManager === undefined ? {} : { variableManager }),
    ...(clock === undefined ? {} : { clock }),
    ...(parent === undefined ? {} : { parent }),
    ...(onHandlerError === undefined ? {} : { onHandlerError }),
  };
}

// JSON.stringify drops undefined properties; XState snapshots carry some
// (`output: undefined`), so extensions accept and drop them the same way.
// One walk validates and copies: checkpoints carry whole actor snapshots, so
// a second (zod) pass over them would double the cost of every checkpoint.
// The walk keeps the keys it is under on a stack and spells a path only for
// the error: building a path string per value cost more than the copy. The
// copies are frozen as they are made: they go into a checkpoint, which is
// frozen whole, and deepFreeze does not walk into what is frozen already.
function dropUndefined(value: unknown, keys: (string | number)[], seen: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw invalidExtension(keys, 'expected a finite number');
  }
  if (typeof value !== 'object') throw invalidExtension(keys, `${typeof value} is not JSON`);
  if (seen.has(value)) throw invalidExtension(keys, 'circular reference');
  if (Array.isArray(value)) {
    seen.add(value);
    const out: unknown[] = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) {
      // A hole stays a hole (JSON.stringify writes null), as Array#map keeps it.
      if (!(index in value)) continue;
      keys.push(index);
      out[index] = dropUndefined(value[index], keys, seen);
      keys.pop();
    }
    seen.delete(value);
    return Object.freeze(out);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw invalidExtension(keys, 'expected a plain object');
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    keys.push(key);
    if (FORBIDDEN_KEYS.has(key)) {
      const path = formatPath(keys);
      throw new ValidationFailure(path, `createCheckpoint extensions: key "${key}" at "${path}" is not allowed`);
    }
    // Plain assignment is safe: the keys that would reach the prototype are refused above.
    out[key] = dropUndefined(item, keys, seen);
    keys.pop();
  }
  seen.delete(value);
  return Object.freeze(out);
}

function invalidExtension(keys: readonly (string | number)[], why: string): ValidationFailure {
  const path = formatPath(keys);
  return new ValidationFailure(path, `createCheckpoint extensions: invalid value at "${path}": ${why}`);
}

const descriptionSchema = z.string().optional();
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Validates `createCheckpoint(description?, extensions?)`; returns a deep, frozen copy of the extensions. */
export function parseCheckpointArgs(
  description: unknown,
  extensions: unknown,
): { description: string | null; extensions: Record<string, JsonValue> } {
  const text = parseInput(descriptionSchema, description, 'createCheckpoint description');
  if (extensions === undefined) return { description: text ?? null, extensions: {} };
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
    throw new ValidationFailure('extensions', 'createCheckpoint extensions: expected a plain object');
  }
  const data = dropUndefined(extensions, ['extensions'], new Set()) as Record<string, JsonValue>;
  return { description: text ?? null, extensions: data };
}
