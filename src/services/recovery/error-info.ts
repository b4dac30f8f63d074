/**
 * {@link ErrorInfo}: one classified error, JSON-only, as kept in the error
 * history and handed to handlers and the step machine.
 *
 * @module
 */
import { nanoid } from 'nanoid';
import { z } from 'zod';
import { isoNow, systemClock, type Clock } from '../../clock.js';
import type { ErrorCategory, ErrorSeverity } from '../../constants.js';
import { serializeError, type SerializedError } from '../../errors.js';
import { parseInput, type JsonValue } from '../../validation.js';
import { classifyErrorCore } from './classify.js';

/** One classified error (JSON-serialisable). */
export interface ErrorInfo {
  /** Unique id (nanoid). */
  errorId: string;
  /** Step that raised it; `'unknown'` when classified outside a step. */
  stepId: string;
  /** Human-readable step name; `'unknown'` when classified outside a step. */
  stepName: string;
  /** Kind of error (SPEC classification table). */
  category: ErrorCategory;
  /** How bad it is (SPEC severity table). */
  severity: ErrorSeverity;
  /** The error's message. */
  message: string;
  /** The error's `name`. */
  errorType: string;
  /** When it was classified (ISO-8601, from the injected clock). */
  timestamp: string;
  /**
   * The error asked to be retried (`RetryableError`, `retryable: true`):
   * retried under any `retryOnCategories`. Category-based retries do not set it.
   */
  retryable: boolean;
  /** The error asked never to be retried (`FatalError`, `CancelledError`). */
  fatal: boolean;
  /** Caller-supplied context, reduced to JSON (values that are not JSON are dropped). */
  context: Record<string, JsonValue>;
  /** The error itself, serialised with its cause chain. */
  error: SerializedError;
}

/** Options of {@link classifyError} beyond the seed's `(error, context)`. */
export interface ClassifyErrorOptions {
  /**
   * Clock for `timestamp`.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Step id; else `context.stepId` / `context.step_id` when a string.
   * @default 'unknown'
   */
  stepId?: string;
  /**
   * Step name; else `context.stepName` / `context.step_name` when a string.
   * @default 'unknown'
   */
  stepName?: string;
  /**
   * Id generator for `errorId`.
   * @default nanoid
   */
  createId?: () => string;
}

const contextSchema = z.record(z.string(), z.unknown()).optional();

function jsonOnly(value: unknown): JsonValue | undefined {
  try {
    // JSON.stringify returns undefined for functions and undefined, whatever its typing says.
    const text = JSON.stringify(value) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  } catch {
    return undefined;
  }
}

function contextString(context: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = context[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * Classifies an error into an {@link ErrorInfo} per the SPEC tables: the
 * error's own signals first (RetryableError/FatalError, a `category` field,
 * its `name`, Node `code`, HTTP `status`), then whole-word message keywords,
 * else EXECUTION. Non-Error throws are normalised first.
 *
 * @param error anything thrown
 * @param context extra data kept (as JSON) in `ErrorInfo.context`
 * @example
 * const info = classifyError(new Error('Something failed'));
 * info.category; // 'execution'
 * info.severity; // 'medium'
 */
export function classifyError(
  error: unknown,
  context?: Record<string, unknown>,
  options: ClassifyErrorOptions = {},
): ErrorInfo {
  const given = parseInput(contextSchema, context, 'classifyError context') ?? {};
  const json: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(given)) {
    const safe = jsonOnly(value);
    if (safe !== undefined) json[key] = safe;
  }
  const core = classifyErrorCore(error);
  return {
    errorId: (options.createId ?? nanoid)(),
    stepId: options.stepId ?? contextString(given, 'stepId', 'step_id') ?? 'unknown',
    stepName: options.stepName ?? contextString(given, 'stepName', 'step_name') ?? 'unknown',
    category: core.category,
    severity: core.severity,
    message: core.message,
    errorType: core.errorType,
    timestamp: isoNow(options.clock ?? systemClock),
    retryable: core.retryable,
    fatal: core.fatal,
    context: json,
    error: serializeError(error),
  };
}
