/**
 * JSON helpers of the legacy state: everything it holds must survive
 * `exportState()` unchanged, so values are checked and copied when they come in.
 *
 * @module
 */
import { ValidationFailure } from '../../errors.js';
import type { JsonValue } from '../../validation.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True for names that would reach `Object.prototype` when used as an object key. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Checks that `value` is JSON data and returns a deep copy of it.
 *
 * Follows `JSON.stringify` for `undefined` (dropped from objects, `null` in
 * arrays and at the top, so a step that returns nothing stores `null`) and
 * for `-0` (stored as `0`).
 * Anything JSON would silently change (Date, Map, class instances, NaN,
 * functions, cycles) is refused instead, so an export never loses data.
 *
 * @param value - the value to check.
 * @param what - what is being checked, for the error message (`registerResult`).
 * @param field - dotted path of `value` in the caller's input.
 * @throws ValidationFailure (`INVALID_INPUT`) naming the offending field.
 */
export function toJsonValue(value: unknown, what: string, field: string): JsonValue {
  const ancestors = new Set<object>();
  const fail = (path: string, expected: string): never => {
    throw new ValidationFailure(path, `${what}: invalid value at "${path}": ${expected}`);
  };
  const walk = (node: unknown, path: string): JsonValue => {
    if (node === null || node === undefined) return null;
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return node;
      case 'number':
        if (!Number.isFinite(node)) return fail(path, `Expected a finite number, got ${node}`);
        // JSON has no negative zero; keep exports and live values identical.
        return Object.is(node, -0) ? 0 : node;
      case 'object':
        break;
      default:
        return fail(path, `Expected a JSON value, got a ${typeof node}`);
    }
    if (ancestors.has(node)) return fail(path, 'Expected a JSON value, got a circular reference');
    ancestors.add(node);
    try {
      if (Array.isArray(node)) {
        return node.map((item: unknown, index) => walk(item, childPath(path, index)));
      }
      if (!isPlainObject(node)) {
        const kind = (node as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        return fail(path, `Expected a plain object, got ${kind}`);
      }
      const out: Record<string, JsonValue> = {};
      for (const [key, child] of Object.entries(node)) {
        const at = childPath(path, key);
        if (isForbiddenKey(key)) fail(at, `key "${key}" is not allowed`);
        if (child !== undefined) out[key] = walk(child, at);
      }
      return out;
    } finally {
      ancestors.delete(node);
    }
  };
  return walk(value, field);
}

/** Deep equality of two JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item: unknown, index) => jsonEqual(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}

/** Copies a value already known to be JSON. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** `JSON`'s kind of a value, as used in auto tags (`type:object`). */
export function jsonKind(value: JsonValue): 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'object' | 'string' | 'number' | 'boolean';
}
