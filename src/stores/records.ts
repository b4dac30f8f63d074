/**
 * The shapes every store writes and reads back, as zod schemas: the
 * execution summary, the journal entries, the write batch and the listing
 * filter. Writing validates a whole call before any storage is touched;
 * reading validates each record and reports a bad one as `STORE_CORRUPT`.
 *
 * @module
 */
import { z } from 'zod';
import { ExecutionStatus } from '../constants.js';
import { ValidationFailure } from '../errors.js';
import { isSealedCheckpoint, parseCheckpoint } from '../services/context/checkpoint.js';
import type { Checkpoint } from '../services/context/index.js';
import { countSchema, formatPath, idSchema, isoTimestampSchema, parseInput } from '../validation.js';
import type { JsonValue } from '../validation.js';
import { variableMetadataSchema } from '../services/variables/variable-state.js';
import { corruptRecord, readStored } from './store-errors.js';
import type { ExecutionFilter, ExecutionSummary, JournalEntry, StoreBatch, StoredJournalEntry } from './types.js';

// JSON-ness (finite numbers, plain objects, no prototype keys) is checked by
// one walk over the whole value before the shape is parsed (toFrozenJson on
// write, parseInput's key walk on read), so JSON fields here only need to be present.
const jsonField = z.custom<JsonValue>((value) => value !== undefined, { message: 'Expected a JSON value' });
const nullableString = z.string().nullable();

/** Schema of {@link ExecutionSummary} (strict: unknown keys are refused). */
export const executionSummarySchema = z.strictObject({
  executionId: idSchema,
  pipelineId: idSchema,
  status: z.enum(ExecutionStatus),
  createdAt: isoTimestampSchema,
  updatedAt: isoTimestampSchema,
  definitionHash: nullableString,
  metadata: z.record(z.string(), jsonField),
});

// Loose: extra fields of a serialised error or step record are kept, not dropped.
// Not recursive (a `cause` is checked one level deep, deeper ones are JSON):
// a recursive schema cannot be compiled and costs cycle tracking on every parse.
const serializedErrorFields = {
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional(),
  retryable: z.boolean().optional(),
  data: z.record(z.string(), jsonField).optional(),
};
/** Schema of a {@link SerializedError} (a `cause` checked one level deep). */
export const serializedErrorSchema = z.looseObject({
  ...serializedErrorFields,
  cause: z.looseObject(serializedErrorFields).optional(),
});

/** Schema of a finished step's record (`StepRecord`). */
export const stepRecordSchema = z.looseObject({
  stepId: idSchema,
  stepName: z.string(),
  status: z.enum(['completed', 'failed', 'skipped', 'cancelled']),
  attempts: countSchema,
  retries: countSchema,
  recoveredBy: z.enum(['retry', 'skip', 'rollback', 'alternative_path']).nullable(),
  error: serializedErrorSchema.nullable(),
  reason: nullableString,
  rollbackCheckpointId: nullableString,
});


/** Schema of one {@link JournalEntry}, chosen by its `kind`. */
export const journalEntrySchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('step_started'),
    stepId: idSchema,
    stepName: z.string(),
    attempt: z.number().int().min(1),
    at: isoTimestampSchema,
  }),
  z.strictObject({
    kind: z.literal('step_finished'),
    record: stepRecordSchema,
    output: jsonField,
    at: isoTimestampSchema,
    startedAt: isoTimestampSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('variable_set'),
    name: idSchema,
    value: jsonField,
    metadata: variableMetadataSchema,
    contextId: idSchema.nullable(),
    at: isoTimestampSchema,
  }),
  z.strictObject({ kind: z.literal('variable_deleted'), name: idSchema, contextId: idSchema.nullable(), at: isoTimestampSchema }),
  z.strictObject({ kind: z.literal('status'), status: z.enum(ExecutionStatus), at: isoTimestampSchema }),
  z.strictObject({ kind: z.literal('checkpoint_restored'), checkpointId: idSchema, at: isoTimestampSchema }),
]);

const batchSchema = z.strictObject({
  executionId: idSchema,
  summary: executionSummarySchema.optional(),
  journal: z.array(journalEntrySchema).optional(),
  // Checked one by one with parseCheckpoint (format version, variables).
  checkpoints: z.array(z.unknown()).optional(),
  keepCheckpoints: countSchema.optional(),
});

// Compiled (generated fast path; failures fall back to the runtime parser for the issue): this runs on every commit.
const writeSchema = z.compile(z.strictObject({ batches: z.array(batchSchema) }));

const filterSchema = z.strictObject({
  status: z.enum(ExecutionStatus).optional(),
  pipelineId: idSchema.optional(),
  limit: countSchema.optional(),
});

/**
 * A batch after validation, defaults filled in. Containers are fresh; JSON
 * payloads (outputs, values, metadata) are still the caller's, so a store
 * serialises them before `write` returns.
 */
export interface ValidBatch {
  executionId: string;
  summary: ExecutionSummary | null;
  journal: JournalEntry[];
  checkpoints: Checkpoint[];
  keepCheckpoints: number | null;
}

const WHAT = 'CheckpointStore.write';
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 512;

/**
 * Checks that `value` is plain JSON without copying it (the write path
 * serialises right after, and a copy costs more than the commit it precedes):
 * finite numbers, arrays without holes, plain objects without prototype keys,
 * no cycles, at most {@link MAX_DEPTH} levels. The keys it is under are kept
 * on a stack and spelled as a path only for the error.
 */
function assertJson(value: unknown, keys: (string | number)[] = [], ancestors: object[] = []): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidJson(keys, `${value} is not a finite number`);
  } else if (typeof value === 'object' && value !== null) {
    if (keys.length >= MAX_DEPTH) throw invalidJson(keys, `nested deeper than ${MAX_DEPTH} levels`);
    if (ancestors.includes(value)) throw invalidJson(keys, 'the value is circular');
    assertJsonContainer(value, keys, ancestors);
  } else if (typeof value !== 'string' && typeof value !== 'boolean' && value !== null) {
    throw invalidJson(keys, `${typeof value} is not a JSON value`);
  }
}

function assertJsonContainer(value: object, keys: (string | number)[], ancestors: object[]): void {
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      keys.push(index);
      if (!(index in value)) throw invalidJson(keys, 'array hole');
      assertJson(value[index], keys, ancestors);
      keys.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw invalidJson(keys, 'expected a plain object');
    for (const key of Object.keys(value)) {
      keys.push(key);
      if (FORBIDDEN_KEYS.has(key)) {
        const path = formatPath(keys);
        throw new ValidationFailure(path, `${WHAT}: key "${key}" at "${path}" is not allowed`);
      }
      assertJson((value as Record<string, unknown>)[key], keys, ancestors);
      keys.pop();
    }
  }
  ancestors.pop();
}

function invalidJson(keys: readonly (string | number)[], why: string): ValidationFailure {
  const path = formatPath(keys);
  return new ValidationFailure(path, `${WHAT}: invalid value at "${path}": ${why}`);
}

function shapeFailure(error: z.ZodError): ValidationFailure {
  const issue = error.issues[0];
  const field = (issue?.path ?? [])
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
  return new ValidationFailure(field, `${WHAT}: invalid value at "${field}": ${issue?.message ?? 'invalid value'}`, { cause: error });
}

function refuse(field: string, message: string): ValidationFailure {
  return new ValidationFailure(field, `${WHAT}: invalid value at "${field}": ${message}`);
}

/** Stands in for a sealed checkpoint in the JSON walk and the shape parse; the checkpoint itself is kept. */
const SEALED: Readonly<Record<string, never>> = Object.freeze({});

function withoutUndefined(batch: unknown): unknown {
  if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) return batch;
  let copy: Record<string, unknown> | null = null;
  // Optional fields passed as `undefined` mean "absent"; copy only when there is one (rare).
  for (const value of Object.values(batch)) {
    if (value === undefined) {
      copy = Object.fromEntries(Object.entries(batch).filter(([, v]) => v !== undefined));
      break;
    }
  }
  // A sealed checkpoint (built by an ExecutionContext from validated parts,
  // frozen since) is not walked again: it holds the whole actor snapshot.
  const checkpoints = (batch as { checkpoints?: unknown }).checkpoints;
  if (Array.isArray(checkpoints) && checkpoints.some(isSealedCheckpoint)) {
    copy ??= { ...batch };
    copy.checkpoints = checkpoints.map((checkpoint) => (isSealedCheckpoint(checkpoint) ? SEALED : checkpoint) as unknown);
  }
  return copy ?? batch;
}

function parseBatchCheckpoint(raw: unknown, executionId: string, field: string): Checkpoint {
  const what = 'checkpoint';
  let checkpoint: Checkpoint;
  try {
    checkpoint = isSealedCheckpoint(raw) ? raw : parseCheckpoint(raw, what);
  } catch (error) {
    if (!(error instanceof ValidationFailure)) throw error;
    const inner = error.field === '' ? field : `${field}.${error.field}`;
    const reason = error.message.startsWith(`${what}: `) ? error.message.slice(what.length + 2) : error.message;
    throw new ValidationFailure(inner, `${WHAT}: invalid checkpoint at "${inner}": ${reason}`, {
      code: error.code,
      cause: error,
      details: { ...error.details, field: inner },
    });
  }
  if (checkpoint.executionId !== executionId) {
    throw refuse(`${field}.executionId`, `Expected "${executionId}" (the batch's execution), got "${checkpoint.executionId}"`);
  }
  return checkpoint;
}

/**
 * Validates the batches of one `write` call. Every
 * value must be JSON (NaN, `undefined`, class instances and `__proto__`,
 * `constructor`, `prototype` keys are refused), summaries and checkpoints
 * must belong to their batch's execution, and a checkpoint id may appear
 * once per call.
 *
 * @throws ValidationFailure `INVALID_INPUT` naming the field
 *   (`batches[0].journal[1].output.total`); `CHECKPOINT_INCOMPATIBLE` for a
 *   checkpoint of a newer format.
 */
export function validateBatches(batches: readonly StoreBatch[]): ValidBatch[] {
  if (!Array.isArray(batches)) throw refuse('batches', 'Expected an array of batches');
  const raw = { batches: (batches as readonly unknown[]).map(withoutUndefined) };
  assertJson(raw);
  // Not parseInput: assertJson has already walked every key, a second walk would double the cost.
  const result = writeSchema.safeParse(raw);
  if (!result.success) throw shapeFailure(result.error);
  const parsed = result.data;
  const seenCheckpoints = new Set<string>();
  return parsed.batches.map((batch, index): ValidBatch => {
    const at = `batches[${index}]`;
    if (batch.summary !== undefined && batch.summary.executionId !== batch.executionId) {
      throw refuse(`${at}.summary.executionId`, `Expected "${batch.executionId}" (the batch's execution)`);
    }
    // Array.isArray above widened `batches` to any[].
    const given = (batches as readonly StoreBatch[])[index]?.checkpoints;
    const checkpoints = (batch.checkpoints ?? []).map((item, position) => {
      const field = `${at}.checkpoints[${position}]`;
      const checkpoint = parseBatchCheckpoint(item === SEALED ? given?.[position] : item, batch.executionId, field);
      if (seenCheckpoints.has(checkpoint.id)) throw refuse(`${field}.id`, `Checkpoint "${checkpoint.id}" appears twice in this write`);
      seenCheckpoints.add(checkpoint.id);
      return checkpoint;
    });
    return {
      executionId: batch.executionId,
      summary: batch.summary ?? null,
      journal: (batch.journal ?? []) as JournalEntry[],
      checkpoints,
      keepCheckpoints: batch.keepCheckpoints ?? null,
    };
  });
}

/** Validates a {@link ExecutionFilter} (`INVALID_INPUT` naming the field). */
export function parseFilter(filter: ExecutionFilter | undefined): ExecutionFilter {
  const parsed = parseInput(filterSchema, filter ?? {}, 'CheckpointStore.listExecutions filter');
  const out: ExecutionFilter = {};
  if (parsed.status !== undefined) out.status = parsed.status;
  if (parsed.pipelineId !== undefined) out.pipelineId = parsed.pipelineId;
  if (parsed.limit !== undefined) out.limit = parsed.limit;
  return out;
}

/**
 * Order of {@link ExecutionFilter} results: newest `updatedAt` first (ISO
 * strings compare as text, which every store can do alike), then by id.
 */
export function compareNewestFirst(a: ExecutionSummary, b: ExecutionSummary): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? 1 : -1;
  return a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0;
}

/** Applies a parsed filter to summaries of a store that keeps no index. */
export function filterSummaries(summaries: readonly ExecutionSummary[], filter: ExecutionFilter): ExecutionSummary[] {
  const kept = summaries
    .filter((s) => (filter.status === undefined || s.status === filter.status) && (filter.pipelineId === undefined || s.pipelineId === filter.pipelineId))
    .sort(compareNewestFirst);
  return filter.limit === undefined ? kept : kept.slice(0, filter.limit);
}

/** Reads a stored summary; a bad one is `STORE_CORRUPT` naming `where`. */
export function parseStoredSummary(raw: unknown, executionId: string, where: string): ExecutionSummary {
  return readStored(executionId, where, () => parseInput(executionSummarySchema, raw, where));
}

/** Reads a stored journal entry and numbers it; a bad one is `STORE_CORRUPT` naming `where`. */
export function parseStoredEntry(raw: unknown, seq: number, executionId: string, where: string): StoredJournalEntry {
  const entry = readStored(executionId, where, () => parseInput(journalEntrySchema, raw, where));
  return { ...(entry as JournalEntry), seq };
}

/**
 * Reads a stored checkpoint record: malformed -> `STORE_CORRUPT` naming
 * `where`; newer format -> `CHECKPOINT_INCOMPATIBLE`.
 */
export function parseStoredCheckpoint(raw: unknown, executionId: string, where: string): Checkpoint {
  const checkpoint = readStored(executionId, where, () => parseCheckpoint(raw, where));
  if (checkpoint.executionId !== executionId) {
    throw corruptRecord(executionId, where, `the record belongs to execution "${checkpoint.executionId}"`);
  }
  return checkpoint;
}

/** The step a journal entry is about (the SQLite store indexes it). */
export function stepIdOf(entry: JournalEntry): string | null {
  if (entry.kind === 'step_started') return entry.stepId;
  if (entry.kind === 'step_finished') return entry.record.stepId;
  return null;
}
