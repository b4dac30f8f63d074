/**
 * The JSON form of a {@link VariableManager}'s state (`exportState` /
 * `importState`): its zod schema, its type, and the parser that turns an
 * untrusted record into fresh internal structures without touching the
 * manager, so a refused import changes nothing.
 *
 * @module
 */
import { z } from 'zod';
import { VariableScope, VariableType } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import { assertFormatVersion, isoTimestampSchema, parseInput } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { DependencyGraph } from './dependency-graph.js';
import { toFrozenJson } from './json-value.js';
import { hasPlaceholder } from './templates.js';
import type { VariableEntry, VariableMetadata } from './types.js';

/** The `formatVersion` this release writes and the newest it reads. */
export const VARIABLE_STATE_FORMAT_VERSION = 1;

/**
 * Everything a {@link VariableManager} holds, as JSON. Values and metadata are
 * shared, frozen snapshots of the manager's own (exporting copies nothing but
 * the containers); `JSON.stringify` / `structuredClone` give independent copies.
 */
export interface VariableState {
  /** Always 1 in this release; newer versions are refused with `STATE_INCOMPATIBLE`. */
  formatVersion: 1;
  /** The manager's pipeline id (adopted by `importState`). */
  pipelineId: string;
  /** Global variables by name. */
  variables: Record<string, VariableEntry<JsonValue>>;
  /** Templates registered with `setTemplate`, by name. */
  templates: Record<string, string>;
  /** `name -> [names it depends on]` (names without dependencies omitted). */
  dependencies: Record<string, string[]>;
  /** Context id -> that context's variables by name. */
  contexts: Record<string, Record<string, VariableEntry<JsonValue>>>;
}

/** A name: a non-empty string (prototype keys are refused by `parseInput`). */
const nameSchema = z.string().min(1, { message: 'Expected a non-empty name' });

/** Schema of {@link VariableMetadata} (strict). */
export const variableMetadataSchema = z.strictObject({
  name: nameSchema,
  scope: z.enum(VariableScope),
  varType: z.enum(VariableType),
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
  sourceStep: z.string().nullable(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  version: z.number().int().min(1),
});

// `value` is checked by toFrozenJson afterwards: one definition of "JSON value"
// for setVariable and importState, and it yields the frozen copy we store.
const entrySchema = z.strictObject({ value: z.unknown(), metadata: variableMetadataSchema });

const variablesSchema = z.record(nameSchema, entrySchema);

/** zod schema of {@link VariableState} (values are checked separately as JSON). */
export const variableStateSchema = z.strictObject({
  formatVersion: z.literal(VARIABLE_STATE_FORMAT_VERSION),
  pipelineId: nameSchema,
  variables: variablesSchema,
  templates: z.record(nameSchema, z.string()),
  dependencies: z.record(nameSchema, z.array(nameSchema)),
  contexts: z.record(nameSchema, variablesSchema),
});

/** One variable as the manager stores it. @internal */
export interface StoredVariable {
  readonly value: JsonValue;
  readonly metadata: VariableMetadata;
  /** The value is a string with placeholders (checked once on write, not on every read). */
  readonly templated: boolean;
}

/** A variable table: globals, or one context. @internal */
export type VariableTable = Map<string, StoredVariable>;

/** Fresh structures built from an imported state. @internal */
export interface ParsedVariableState {
  pipelineId: string;
  globals: VariableTable;
  contexts: Map<string, VariableTable>;
  templates: Map<string, string>;
  graph: DependencyGraph;
}

/** Builds a stored variable; metadata is frozen once here. @internal */
export function storedVariable(value: JsonValue, metadata: VariableMetadata): StoredVariable {
  Object.freeze(metadata.tags);
  return {
    value,
    metadata: Object.freeze(metadata),
    templated: typeof value === 'string' && hasPlaceholder(value),
  };
}

type ParsedEntries = z.output<typeof variablesSchema>;

function buildTable(entries: ParsedEntries, path: string, what: string): VariableTable {
  const table: VariableTable = new Map();
  for (const [name, entry] of Object.entries(entries)) {
    const at = `${path}.${name}`;
    if (entry.metadata.name !== name) {
      throw new ValidationFailure(
        `${at}.metadata.name`,
        `${what}: invalid value at "${at}.metadata.name": expected "${name}" (the variable's key), got "${entry.metadata.name}"`,
      );
    }
    const value = toFrozenJson(entry.value, `${at}.value`, what);
    table.set(name, storedVariable(value, { ...entry.metadata, tags: [...entry.metadata.tags] }));
  }
  return table;
}

/**
 * Validates `input` as a {@link VariableState} and builds fresh internal
 * structures from it. Pure: throws before anything is returned.
 *
 * @throws ValidationFailure `STATE_INCOMPATIBLE` for a newer `formatVersion`,
 *   `DEPENDENCY_CYCLE` for cyclic dependencies, `INVALID_INPUT` for anything
 *   else; the message and `field` name the offending field.
 */
export function parseVariableState(input: unknown, what = 'VariableManager.importState state'): ParsedVariableState {
  assertFormatVersion(input, VARIABLE_STATE_FORMAT_VERSION, what);
  const state = parseInput(variableStateSchema, input, what);
  const globals = buildTable(state.variables, 'variables', what);
  const contexts = new Map<string, VariableTable>();
  for (const [contextId, entries] of Object.entries(state.contexts)) {
    contexts.set(contextId, buildTable(entries, `contexts.${contextId}`, what));
  }
  let graph: DependencyGraph;
  try {
    graph = DependencyGraph.fromJSON(state.dependencies);
  } catch (error) {
    if (error instanceof ExecutionError && error.code === ErrorCode.DependencyCycle) {
      const name = typeof error.details.name === 'string' ? error.details.name : '';
      throw new ValidationFailure(`dependencies.${name}`, `${what}: invalid value at "dependencies.${name}": ${error.message}`, {
        code: ErrorCode.DependencyCycle,
        cause: error,
        details: error.details,
      });
    }
    throw error;
  }
  return {
    pipelineId: state.pipelineId,
    globals,
    contexts,
    templates: new Map(Object.entries(state.templates)),
    graph,
  };
}

/** Exports a variable table as JSON entries (values and metadata shared, frozen). @internal */
export function exportTable(table: VariableTable): Record<string, VariableEntry<JsonValue>> {
  const out: Record<string, VariableEntry<JsonValue>> = {};
  for (const [name, stored] of table) out[name] = { value: stored.value, metadata: stored.metadata };
  return out;
}
