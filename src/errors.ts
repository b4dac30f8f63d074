/**
 * The one error hierarchy of the engine: every error the engine throws is an
 * {@link ExecutionError} with a stable string {@link ErrorCode}, an optional
 * `cause`, and a `retryable` flag that recovery reads before anything else.
 *
 * @module
 */

/** Stable error codes. Tests and users match on these, never on messages. */
export const ErrorCode = {
  /** An argument or imported state failed validation; nothing was changed. */
  InvalidInput: 'INVALID_INPUT',
  /** Imported state was written by a newer format version. */
  StateIncompatible: 'STATE_INCOMPATIBLE',
  /** A checkpoint record was written by a newer format version or is malformed. */
  CheckpointIncompatible: 'CHECKPOINT_INCOMPATIBLE',
  /** No checkpoint with that id. */
  CheckpointNotFound: 'CHECKPOINT_NOT_FOUND',
  /** A variable dependency would form a cycle. */
  DependencyCycle: 'DEPENDENCY_CYCLE',
  /** A variable context id is unknown. */
  ContextNotFound: 'CONTEXT_NOT_FOUND',
  /** The operation is not allowed in the current state. */
  InvalidState: 'INVALID_STATE',
  /** A step ran past its timeout. */
  StepTimeout: 'STEP_TIMEOUT',
  /** A step or execution was cancelled. */
  Cancelled: 'CANCELLED',
  /** A step failed (wraps the user's error as `cause`). */
  StepFailed: 'STEP_FAILED',
  /** The manager was shut down; it answers reads only. */
  ManagerShutDown: 'MANAGER_SHUT_DOWN',
  /** No stored execution with that id. */
  ExecutionNotFound: 'EXECUTION_NOT_FOUND',
  /** A store could not read or write. */
  StoreError: 'STORE_ERROR',
  /** A stored record could not be parsed. */
  StoreCorrupt: 'STORE_CORRUPT',
  /** A store was written by a newer schema version. */
  StoreIncompatible: 'STORE_INCOMPATIBLE',
  /** A worker's write was refused: another worker took its execution over (its lease expired). */
  LeaseLost: 'LEASE_LOST',
} as const;
/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options of {@link ExecutionError}. */
export interface ExecutionErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /**
   * Whether recovery may retry the failed work.
   * @default false
   */
  retryable?: boolean;
  /** Extra JSON data (the offending field, the checkpoint id...). */
  details?: Record<string, unknown>;
}

/**
 * Base class of every error the engine throws.
 *
 * @example
 * try { manager.restoreCheckpoint(id) } catch (e) {
 *   if (e instanceof ExecutionError && e.code === ErrorCode.ManagerShutDown) ...
 * }
 */
export class ExecutionError extends Error {
  override name = 'ExecutionError';
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Whether recovery may retry the failed work. */
  readonly retryable: boolean;
  /** Extra JSON data about the failure. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ExecutionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** Bad input: a typed error whose message names the field and what was expected. */
export class ValidationFailure extends ExecutionError {
  override name = 'ValidationFailure';
  /** Dotted path of the first offending field (empty for the root). */
  readonly field: string;
  constructor(field: string, message: string, options: ExecutionErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.InvalidInput, message, {
      ...options,
      details: { field, ...(options.details ?? {}) },
    });
    this.field = field;
  }
}

/** A step exceeded its `timeoutMs`. Classified as TIMEOUT. */
export class StepTimeoutError extends ExecutionError {
  override name = 'TimeoutError';
  constructor(stepId: string, timeoutMs: number, options: ExecutionErrorOptions = {}) {
    super(ErrorCode.StepTimeout, `Step "${stepId}" timed out after ${timeoutMs} ms`, {
      retryable: true,
      ...options,
      details: { stepId, timeoutMs, ...(options.details ?? {}) },
    });
  }
}

/** Work was cancelled. Never retried. */
export class CancelledError extends ExecutionError {
  override name = 'CancelledError';
  constructor(message = 'Cancelled', options: ExecutionErrorOptions = {}) {
    super(ErrorCode.Cancelled, message, { ...options, retryable: false });
  }
}

/**
 * Throw from a step to say "retry me" whatever the message says.
 * Classification honours it before any keyword.
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  /** Category reported to recovery; NETWORK when not given. */
  readonly category: string | undefined;
  constructor(message: string, options: { cause?: unknown; category?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.category = options.category;
  }
}

/** Throw from a step to say "never retry me". */
export class FatalError extends Error {
  override name = 'FatalError';
  /** Category reported to recovery; EXECUTION when not given. */
  readonly category: string | undefined;
  constructor(message: string, options: { cause?: unknown; category?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.category = options.category;
  }
}

/** JSON form of an error, as kept in checkpoints, journals and error history. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  retryable?: boolean;
  /** Extra own fields worth keeping (`status`, `category`, `severity`, `details`). */
  data?: Record<string, unknown>;
  cause?: SerializedError;
}

const MAX_CAUSE_DEPTH = 8;
const KEPT_FIELDS = ['status', 'statusCode', 'category', 'severity', 'details', 'field'] as const;

/** Turns anything thrown into an `Error` (p-retry style: non-Error throws are normalised). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  let text: string;
  try {
    // JSON.stringify returns undefined for undefined, functions and symbols.
    text = stringifyOrUndefined(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return new Error(`Non-error thrown: ${text}`, { cause: thrown });
}

/** JSON.stringify, typed honestly: undefined for undefined, functions and symbols. */
const stringifyOrUndefined: (value: unknown) => string | undefined = JSON.stringify;

function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return undefined;
  }
}

/** Serialises an error (and its `cause` chain) to plain JSON. */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  const error = toError(thrown);
  const out: SerializedError = { name: error.name, message: error.message };
  const record = error as unknown as Record<string, unknown>;
  if (typeof record.code === 'string') out.code = record.code;
  if (error.stack !== undefined) out.stack = error.stack;
  if (typeof record.retryable === 'boolean') out.retryable = record.retryable;
  const data: Record<string, unknown> = {};
  for (const key of KEPT_FIELDS) {
    if (record[key] !== undefined) {
      const safe = jsonSafe(record[key]);
      if (safe !== undefined) data[key] = safe;
    }
  }
  if (Object.keys(data).length > 0) out.data = data;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (Object.values(ErrorCode) as string[]).includes(code);
}

/**
 * Revives a {@link SerializedError}: engine codes come back as
 * {@link ExecutionError}s, anything else as an `Error` with the same name,
 * message, code and kept fields, so classification gives the same answer.
 */
export function reviveError(serialized: SerializedError): Error {
  const cause = serialized.cause === undefined ? undefined : reviveError(serialized.cause);
  const options = cause === undefined ? {} : { cause };
  let error: Error;
  if (isErrorCode(serialized.code)) {
    error = new ExecutionError(serialized.code, serialized.message, {
      ...options,
      retryable: serialized.retryable ?? false,
      ...(isPlainRecord(serialized.data?.details) ? { details: serialized.data.details } : {}),
    });
  } else {
    error = new Error(serialized.message, options);
    if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
    if (serialized.retryable !== undefined) Object.assign(error, { retryable: serialized.retryable });
  }
  error.name = serialized.name;
  for (const [key, value] of Object.entries(serialized.data ?? {})) {
    if (key !== 'details' || !(error instanceof ExecutionError)) {
      Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
