/**
 * The engine's part of a checkpoint: the execution actor's persisted snapshot
 * (its step children included), the records and outputs of finished steps,
 * and the progress state, in one versioned JSON value stored under
 * `checkpoint.extensions.engine`.
 *
 * @module
 */
import { z } from 'zod';
import { ErrorCode, ValidationFailure } from '../../errors.js';
import type { StepRecord } from '../../machines/machine-types.js';
import { stepRecordSchema } from '../../stores/records.js';
import { assertFormatVersion, jsonValueSchema, parseInput, type JsonValue } from '../../validation.js';

/** Format version of {@link EngineCheckpointData}; newer ones are refused with CHECKPOINT_INCOMPATIBLE. */
export const ENGINE_CHECKPOINT_FORMAT_VERSION = 1;

/** The engine's data inside a checkpoint. */
export interface EngineCheckpointData {
  formatVersion: 1;
  /** `executionActor.getPersistedSnapshot()`: JSON only. */
  actor: { status: string; value: JsonValue; context: Record<string, JsonValue> } & Record<string, JsonValue>;
  /** Finished steps' records, by step id. */
  steps: Record<string, StepRecord>;
  /** Finished steps' outputs (JSON), by step id. */
  outputs: Record<string, JsonValue>;
  /** `progressTracker.exportProgress(executionId)`. */
  progress: JsonValue;
}

const engineCheckpointSchema = z.object({
  formatVersion: z.literal(ENGINE_CHECKPOINT_FORMAT_VERSION),
  actor: z.looseObject({
    status: z.enum(['active', 'done']),
    value: z.union([z.string(), z.record(z.string(), jsonValueSchema)]),
    context: z.record(z.string(), jsonValueSchema),
  }),
  steps: z.record(z.string(), stepRecordSchema),
  outputs: z.record(z.string(), jsonValueSchema),
  progress: jsonValueSchema,
});

/**
 * Checks that a step's output can be kept as JSON, as stores and checkpoints
 * keep it. What `JSON.stringify` takes passes (a Date becomes its ISO
 * string, undefined fields drop out, NaN becomes null); a BigInt, a cycle or
 * a bare function fails here, with an error naming the step, rather than in
 * a write or a checkpoint later on.
 *
 * @throws ValidationFailure `INVALID_INPUT` (field `output`, details `stepId`)
 */
export function assertStorableOutput(stepId: string, output: unknown): string | undefined {
  // Strings, numbers, booleans, null and undefined are always fine: no walk on the common small outputs.
  if (output === null || (typeof output !== 'object' && typeof output !== 'bigint' && typeof output !== 'function' && typeof output !== 'symbol')) return undefined;
  // Typed as string, but undefined for a function or a symbol.
  let text: unknown;
  try {
    text = JSON.stringify(output);
  } catch (error) {
    // V8 spells a cycle's path over several lines; the first says what is wrong.
    const why = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0] ?? '';
    throw unstorable(stepId, why, error);
  }
  if (typeof text !== 'string') throw unstorable(stepId, `a ${typeof output} is not JSON`);
  return text;
}

/**
 * JSON texts of object outputs the step boundary has just checked, for the
 * durable log to parse instead of serialising the same output a second time.
 * Weak, and taken once: only the commit right after the check reads it.
 */
const checkedOutputs = new WeakMap<object, string>();

/** Keeps the text {@link assertStorableOutput} made of `output`, for {@link takeJsonValue}. */
export function keepCheckedOutput(output: unknown, text: string | undefined): void {
  if (text !== undefined && typeof output === 'object' && output !== null) checkedOutputs.set(output, text);
}

/** {@link toJsonValue}, from the text the boundary check kept when there is one. */
export function takeJsonValue(value: unknown): JsonValue {
  if (typeof value === 'object' && value !== null) {
    const text = checkedOutputs.get(value);
    if (text !== undefined) {
      checkedOutputs.delete(value);
      return JSON.parse(text) as JsonValue;
    }
  }
  return toJsonValue(value);
}

function unstorable(stepId: string, why: string, cause?: unknown): ValidationFailure {
  return new ValidationFailure('output', `Step "${stepId}" returned an output that cannot be stored as JSON: ${why}`, {
    details: { stepId },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Deep JSON copy: what a checkpoint keeps of a value (undefined becomes null). */
export function toJsonValue(value: unknown): JsonValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/**
 * The engine's data as of now: the actor's persisted snapshot, the finished
 * steps' records and (JSON copies of) their outputs, and the exported
 * progress. The context copies and validates extensions in one walk
 * (undefined fields dropped), so the snapshot goes in as XState gives it.
 */
export function captureEngineCheckpoint(
  actor: { getPersistedSnapshot(): unknown },
  steps: { records: ReadonlyMap<string, StepRecord>; outputs: ReadonlyMap<string, unknown> },
  progress: JsonValue,
): EngineCheckpointData {
  return {
    formatVersion: ENGINE_CHECKPOINT_FORMAT_VERSION,
    actor: actor.getPersistedSnapshot() as EngineCheckpointData['actor'],
    steps: Object.fromEntries(steps.records),
    outputs: Object.fromEntries([...steps.outputs].map(([id, output]) => [id, toJsonValue(output)])),
    progress,
  };
}

/**
 * Reads the engine data of a checkpoint's extensions; undefined when the
 * checkpoint was made by a bare ExecutionContext (no actor snapshot).
 *
 * @throws ValidationFailure CHECKPOINT_INCOMPATIBLE for a newer format, INVALID_INPUT naming the field otherwise
 */
export function readEngineCheckpoint(extensions: Record<string, unknown>): EngineCheckpointData | undefined {
  const raw = extensions.engine;
  if (raw === undefined) return undefined;
  assertFormatVersion(raw, ENGINE_CHECKPOINT_FORMAT_VERSION, 'checkpoint engine data', ErrorCode.CheckpointIncompatible);
  return parseInput(engineCheckpointSchema, raw, 'checkpoint engine data') as EngineCheckpointData;
}
