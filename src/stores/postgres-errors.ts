/**
 * How the PostgreSQL store reads a failure of `pg`: which errors mean the
 * connection (or the server) went away and the work may be retried, which
 * say a transaction surely did not commit, and how they become the store's
 * `STORE_ERROR` / `STORE_CORRUPT`.
 *
 * @module
 */
import { ErrorCode, ExecutionError } from '../errors.js';
import { errorCode } from './store-errors.js';

/** SQLSTATE classes and codes of a connection or server that is (momentarily) gone. */
const CONNECTION_STATES = new Set([
  '57P01', // admin_shutdown (pg_ctl stop/restart)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);
/** Node socket codes of a connection that failed. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** A transaction the server rolled back on its own; running it again is safe. */
const ROLLED_BACK_STATES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
/** The server says the data on disk is damaged. */
const CORRUPT_STATES = new Set(['XX001', 'XX002']);
/** `pg` errors without a code that say the connection is gone. */
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /connection is closed/i,
  /timeout exceeded when trying to connect/i,
  /server closed the connection/i,
  /terminating connection/i,
];

/** True when `error` says the connection or the server went away (worth retrying later). */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (CONNECTION_STATES.has(code) || SOCKET_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  return CONNECTION_MESSAGES.some((pattern) => pattern.test(message));
}

/** True when the server rolled the transaction back itself (deadlock, serialization). */
export function isRolledBack(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && ROLLED_BACK_STATES.has(code);
}

/**
 * Wraps what `pg` threw. Engine errors pass through unchanged; a connection
 * failure is a retryable `STORE_ERROR`; damaged data is `STORE_CORRUPT`;
 * anything else a non-retryable `STORE_ERROR`. The original is the `cause`.
 *
 * @param doing - what the store was doing, for the message ("write 2 batches").
 */
export function toPostgresError(error: unknown, doing: string, details: Record<string, unknown> = {}): ExecutionError {
  if (error instanceof ExecutionError) return error;
  const code = errorCode(error);
  const withCode = code === undefined ? details : { ...details, storageCode: code };
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && CORRUPT_STATES.has(code)) {
    return new ExecutionError(ErrorCode.StoreCorrupt, `Store is corrupt (${doing}): ${message}`, { cause: error, details: withCode });
  }
  return new ExecutionError(ErrorCode.StoreError, `PostgreSQL store failed to ${doing}: ${message}`, {
    cause: error,
    retryable: isConnectionError(error) || isRolledBack(error),
    details: withCode,
  });
}
