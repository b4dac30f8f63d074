/**
 * Argument checks of the variable service. Option bags go through zod
 * (`parseInput`); names and the per-read options are checked by hand because
 * they sit on the hot path of every step.
 *
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { VariableScope, VariableType } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** A string name that may be looked up (non-empty). */
export function checkName(name: unknown, what: string, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new ValidationFailure(field, `${what}: invalid value at "${field}": expected a non-empty string, got ${shown(name)}`);
  }
}

/**
 * A name that may be stored: non-empty and not a prototype key, so that every
 * state the manager can reach exports to JSON that `importState` accepts.
 */
export function checkStorableName(name: unknown, what: string, field = 'name'): asserts name is string {
  checkName(name, what, field);
  if (FORBIDDEN_NAMES.has(name)) {
    throw new ValidationFailure(field, `${what}: invalid value at "${field}": the name "${name}" is not allowed`);
  }
}

/** A string argument (empty allowed). */
export function checkString(value: unknown, what: string, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new ValidationFailure(field, `${what}: invalid value at "${field}": expected a string, got ${shown(value)}`);
  }
}

/** An optional field of a hand-checked option bag. */
export function checkOptional(
  options: object | undefined,
  key: string,
  type: 'string' | 'boolean',
  what: string,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new ValidationFailure('', `${what}: invalid value: expected an options object, got ${shown(options)}`);
  }
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return;
  if (typeof value !== type || (type === 'string' && value === '')) {
    const expected = type === 'string' ? 'a non-empty string' : 'a boolean';
    throw new ValidationFailure(key, `${what}: invalid value at "${key}": expected ${expected}, got ${shown(value)}`);
  }
}

const storableName = z
  .string()
  .min(1, { message: 'Expected a non-empty name' })
  .refine((name) => !FORBIDDEN_NAMES.has(name), { message: 'This name is not allowed' });

/** Options of `setVariable`. */
export const setVariableOptionsSchema = z.strictObject({
  scope: z.enum(VariableScope).optional(),
  varType: z.enum(VariableType).optional(),
  sourceStep: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  tags: z.array(z.string()).optional(),
  contextId: z.string().min(1).optional(),
});

const SET_OPTION_KEYS = new Set(['scope', 'varType', 'sourceStep', 'description', 'tags', 'contextId']);
const SCOPES = new Set<unknown>(Object.values(VariableScope));
const TYPES = new Set<unknown>(Object.values(VariableType));

function isOptionalNullableString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/**
 * Fast, allocation-free pre-check of `setVariable` options. Sound but not
 * complete: true only for options {@link setVariableOptionsSchema} accepts
 * unchanged, so the caller can skip zod; on false, zod decides and words the error.
 */
export function isValidSetOptions(options: unknown): options is z.output<typeof setVariableOptionsSchema> {
  if (typeof options !== 'object' || options === null || Object.getPrototypeOf(options) !== Object.prototype) return false;
  const o = options as Record<string, unknown>;
  for (const key in o) if (!SET_OPTION_KEYS.has(key)) return false;
  if (o.scope !== undefined && !SCOPES.has(o.scope)) return false;
  if (o.varType !== undefined && !TYPES.has(o.varType)) return false;
  if (!isOptionalNullableString(o.sourceStep) || !isOptionalNullableString(o.description)) return false;
  if (o.contextId !== undefined && (typeof o.contextId !== 'string' || o.contextId === '')) return false;
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags)) return false;
    for (const tag of o.tags as unknown[]) if (typeof tag !== 'string') return false;
  }
  return true;
}

/** Options of `listVariables`. */
export const listVariablesOptionsSchema = z.strictObject({
  scope: z.enum(VariableScope).optional(),
  varType: z.enum(VariableType).optional(),
  contextId: z.string().min(1).optional(),
  includeMetadata: z.boolean().optional(),
});

/** `pushScope` aliases: alias -> real name. */
export const aliasesSchema = z.record(storableName, storableName);

/** `addDependency`'s second argument. */
export const dependsOnSchema = z.union([storableName, z.array(storableName)]);

/** Extra values of `resolveTemplate`. */
export const extraSchema = z.record(z.string(), z.unknown());

/** Options of the `VariableManager` constructor. */
export const managerOptionsSchema = z.strictObject({
  pipelineId: z.string().min(1).optional(),
  clock: z
    .custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Partial<Clock>).now === 'function', {
      message: 'Expected a Clock (an object with now())',
    })
    .optional(),
  onHandlerError: z
    .custom<(error: unknown, detail: unknown) => void>((v) => typeof v === 'function', {
      message: 'Expected a function',
    })
    .optional(),
});

/** A handler argument. */
export function checkHandler(handler: unknown, what: string): void {
  if (typeof handler !== 'function') {
    throw new ValidationFailure('handler', `${what}: invalid value at "handler": expected a function, got ${shown(handler)}`);
  }
}
