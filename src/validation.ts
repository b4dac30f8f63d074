/**
 * Validation at the boundary: zod schemas in, typed {@link ValidationFailure}s
 * out. Every import and public argument goes through {@link parseInput}, so
 * a bad value is refused before anything changes.
 *
 * @module
 */
import { z } from 'zod';
import { ErrorCode, ValidationFailure } from './errors.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Refuses objects that carry `__proto__`, `constructor` or `prototype` keys
 * anywhere inside (as `JSON.parse` produces them), so imported state can never
 * reach `Object.prototype` through an assignment.
 */
export function assertNoPrototypeKeys(value: unknown, what: string): void {
  const seen = new Set<unknown>();
  // The keys we are under, spelled as a path only for the error.
  const keys: PropertyKey[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        keys.push(index);
        walk(node[index]);
        keys.pop();
      }
      return;
    }
    for (const key of Object.keys(node)) {
      keys.push(key);
      if (FORBIDDEN_KEYS.has(key)) {
        const child = formatPath(keys);
        throw new ValidationFailure(child, `${what}: key "${key}" at "${child}" is not allowed`);
      }
      walk((node as Record<string, unknown>)[key]);
      keys.pop();
    }
  };
  walk(value);
}

/** Spells a key path the way error messages name fields: `batches[0].journal[1].output`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.').replace(/\.\[/g, '[');
}

/**
 * Parses `value` with `schema`; on failure throws a {@link ValidationFailure}
 * (`INVALID_INPUT`) whose message names `what`, the field and what was expected.
 *
 * @example
 * const options = parseInput(OptionsSchema, raw, 'createExecutionContext options');
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  assertNoPrototypeKeys(value, what);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined ? '' : formatPath(issue.path);
  const where = field === '' ? '' : ` at "${field}"`;
  const detail = issue?.message ?? 'invalid value';
  throw new ValidationFailure(field, `${what}: invalid value${where}: ${detail}`, {
    cause: result.error,
    details: { issues: result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
  });
}

/**
 * Checks a `formatVersion` before the rest of an import is read, so a file
 * from a newer release is refused with a clear code instead of a schema error.
 */
export function assertFormatVersion(
  value: unknown,
  supported: number,
  what: string,
  code: ErrorCode = ErrorCode.StateIncompatible,
): void {
  if (typeof value !== 'object' || value === null) return;
  const version = (value as Record<string, unknown>).formatVersion;
  if (typeof version === 'number' && Number.isFinite(version) && version > supported) {
    throw new ValidationFailure(
      'formatVersion',
      `${what}: formatVersion ${version} was written by a newer release; this release reads up to ${supported}`,
      { code, details: { formatVersion: version, supported } },
    );
  }
}

/** A finite number (NaN and ±Infinity refused). */
export const finiteNumber = z.number().refine(Number.isFinite, { message: 'Expected a finite number' });
/** A finite, non-negative integer count. */
export const countSchema = z.number().int().min(0);
/** A finite percentage, clamped to 0..100 by callers that clamp. */
export const percentageSchema = finiteNumber;
/** A non-empty identifier. */
export const idSchema = z.string().min(1, { message: 'Expected a non-empty string' });
/** ISO-8601 timestamp string. */
export const isoTimestampSchema = z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
  message: 'Expected an ISO-8601 timestamp',
});

/** Any JSON value (no functions, no undefined inside objects, finite numbers only). */
export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    finiteNumber,
    z.string(),
    z.array(jsonValueSchema),
    z.record(z.string(), jsonValueSchema),
  ]),
);

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Hot-path check of a non-empty string identifier, without zod (zod costs
 * microseconds per call; ids are checked on every step).
 *
 * @throws ValidationFailure INVALID_INPUT naming `what`
 */
export function requireId(value: unknown, what: string): string {
  if (typeof value === 'string' && value.length > 0) return value;
  throw new ValidationFailure(what, `${what}: expected a non-empty string, got ${describeValue(value)}`);
}

/** Hot-path check of a finite number (NaN and ±Infinity refused). */
export function requireFinite(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new ValidationFailure(what, `${what}: expected a finite number, got ${describeValue(value)}`);
}

/** Hot-path check of a boolean. */
export function requireBoolean(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new ValidationFailure(what, `${what}: expected a boolean, got ${describeValue(value)}`);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `the string "${value}"`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
