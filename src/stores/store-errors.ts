/**
 * How stores report failures: storage throws become `STORE_ERROR` (retryable
 * when the storage was only busy), unreadable records `STORE_CORRUPT`, and a
 * closed store `INVALID_STATE`. One place decides, so every store answers alike.
 *
 * @module
 */
import { ErrorCode, ExecutionError, ValidationFailure } from '../errors.js';

/** Codes of a storage that is only momentarily unavailable. */
const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED', 'EBUSY', 'EAGAIN']);
/** Codes that say the bytes on disk are not a valid store. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE']);

/** The `code` of a Node or SQLite error, when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Wraps whatever a storage call threw. Engine errors pass through unchanged
 * (a validation failure raised inside a transaction must keep its code);
 * anything else becomes `STORE_ERROR` with the original as `cause`, or
 * `STORE_CORRUPT` when SQLite says the file is damaged.
 *
 * @param doing - what the store was doing, for the message ("write 2 batches").
 */
export function toStoreError(error: unknown, doing: string, details: Record<string, unknown> = {}): ExecutionError {
  if (error instanceof ExecutionError) return error;
  const code = errorCode(error);
  const withCode = code === undefined ? details : { ...details, storageCode: code };
  if (code !== undefined && CORRUPT_CODES.has(code)) {
    return new ExecutionError(ErrorCode.StoreCorrupt, `Store is corrupt (${doing}): ${messageOf(error)}`, {
      cause: error,
      details: withCode,
    });
  }
  const busy = code !== undefined && BUSY_CODES.has(code);
  return new ExecutionError(ErrorCode.StoreError, `Store failed to ${doing}: ${messageOf(error)}`, {
    cause: error,
    retryable: busy,
    details: withCode,
  });
}

/**
 * A stored record that cannot be read back: names the execution and where
 * the record lives (table and row, or file and line).
 */
export function corruptRecord(executionId: string, where: string, why: string, cause?: unknown): ExecutionError {
  return new ExecutionError(ErrorCode.StoreCorrupt, `Stored data of execution "${executionId}" is corrupt at ${where}: ${why}`, {
    cause,
    details: { executionId, where },
  });
}

/**
 * Runs a parse of stored data: `INVALID_INPUT` failures become
 * {@link corruptRecord}; `CHECKPOINT_INCOMPATIBLE` (a newer record) and other
 * engine codes pass through.
 */
export function readStored<T>(executionId: string, where: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ValidationFailure && error.code === ErrorCode.InvalidInput) {
      throw corruptRecord(executionId, where, error.message, error);
    }
    if (error instanceof ExecutionError) throw error;
    throw corruptRecord(executionId, where, messageOf(error), error);
  }
}

/** `JSON.parse` of stored text, typed as unknown. */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** The error of any call on a closed store. */
export function closedStoreError(kind: string): ExecutionError {
  return new ExecutionError(ErrorCode.InvalidState, `The ${kind} store is closed`, { details: { kind } });
}
