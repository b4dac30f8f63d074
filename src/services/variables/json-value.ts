/**
 * The one definition of "a value a variable may hold": plain JSON (null,
 * booleans, finite numbers, strings, arrays, plain objects). Values are
 * copied and deep-frozen once on the way in, so reads can hand out the stored
 * value without another copy and nobody can change it by accident.
 *
 * @module
 */
import { ValidationFailure } from '../../errors.js';
import type { JsonValue } from '../../validation.js';

/** Keys refused anywhere inside a value, as in imported state (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Nesting deeper than this is refused instead of overflowing the stack. */
export const MAX_VALUE_DEPTH = 512;

/**
 * Every array and object this module produced. They are already validated,
 * copied and frozen, so storing one again (e.g. `set('b', get('a'))`) is O(1).
 */
const owned = new WeakSet<object>();

const EXPECTED = 'expected a JSON value (null, boolean, finite number, string, array or plain object)';

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'object' && value !== null) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
  }
  return typeof value;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function isJsonScalar(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** -0 is stored as 0, as JSON keeps it: a value reads the same before and after a checkpoint. */
function normalizeScalar(value: JsonValue): JsonValue {
  return value === 0 ? 0 : value;
}

/**
 * Validates `value` as JSON and returns a deep-frozen copy (scalars as is).
 * Throws a {@link ValidationFailure} (`INVALID_INPUT`) naming the offending
 * path, e.g. `value.rows[2].at`.
 *
 * @param value - anything.
 * @param path - dotted name of `value` used in messages (`value`, `variables.x.value`).
 * @param what - the operation, for the message (`setVariable("x")`).
 */
export function toFrozenJson(value: unknown, path: string, what: string): JsonValue {
  // Hot path (every setVariable): scalars and already-frozen values need no walk.
  if (isJsonScalar(value)) return normalizeScalar(value as JsonValue);
  if (typeof value === 'object' && value !== null && owned.has(value)) return value as JsonValue;
  const ancestors = new Set<object>();
  const walk = (node: unknown, at: string, depth: number): JsonValue => {
    if (isJsonScalar(node)) return normalizeScalar(node as JsonValue);
    if (typeof node !== 'object' || node === null) {
      throw new ValidationFailure(at, `${what}: ${describe(node)} at "${at}" is not allowed; ${EXPECTED}`);
    }
    if (owned.has(node)) return node as JsonValue;
    if (depth > MAX_VALUE_DEPTH) {
      throw new ValidationFailure(at, `${what}: value at "${at}" is nested deeper than ${MAX_VALUE_DEPTH} levels`);
    }
    if (ancestors.has(node)) {
      throw new ValidationFailure(at, `${what}: value at "${at}" is circular; ${EXPECTED}`);
    }
    if (Object.getOwnPropertySymbols(node).length > 0) {
      throw new ValidationFailure(at, `${what}: value at "${at}" has symbol keys; ${EXPECTED}`);
    }
    ancestors.add(node);
    let copy: JsonValue[] | Record<string, JsonValue>;
    if (Array.isArray(node)) {
      const items: JsonValue[] = new Array<JsonValue>(node.length);
      for (let index = 0; index < node.length; index++) {
        const here = childPath(at, index);
        if (!(index in node)) {
          throw new ValidationFailure(here, `${what}: array hole at "${here}" is not allowed; ${EXPECTED}`);
        }
        items[index] = walk((node as unknown[])[index], here, depth + 1);
      }
      copy = items;
    } else {
      const proto = Object.getPrototypeOf(node) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new ValidationFailure(at, `${what}: ${describe(node)} at "${at}" is not allowed; ${EXPECTED}`);
      }
      const record: Record<string, JsonValue> = {};
      for (const key of Object.keys(node)) {
        const here = childPath(at, key);
        if (FORBIDDEN_KEYS.has(key)) {
          throw new ValidationFailure(here, `${what}: key "${key}" at "${here}" is not allowed`);
        }
        record[key] = walk((node as Record<string, unknown>)[key], here, depth + 1);
      }
      copy = record;
    }
    ancestors.delete(node);
    Object.freeze(copy);
    owned.add(copy);
    return copy;
  };
  return walk(value, path, 0);
}
