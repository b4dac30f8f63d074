/**
 * Zod schemas of the legacy state and the bridge: options, loop contexts and
 * the exported state (the types users see come from here).
 *
 * @module
 */
import { z } from 'zod';
import { VariableScope, VariableType } from '../../constants.js';
import { idSchema, isoTimestampSchema, jsonValueSchema } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { isForbiddenKey } from './json.js';

/** Format version written by `PipelineExecutionState.exportState()` and the bridge's combined export. */
export const PIPELINE_STATE_FORMAT_VERSION = 1;

/** A variable name, step id or task id: non-empty and never a prototype key. */
export const stateNameSchema = idSchema.refine((name) => !isForbiddenKey(name), {
  message: 'Expected a name other than __proto__, constructor or prototype',
});

const tagsSchema = z.array(z.string().min(1, { message: 'Expected a non-empty tag' }));

/** Options of `registerVariable` / `registerResult` on the legacy state. */
export const registerOptionsSchema = z
  .object({
    /** Tags added to the automatic ones. */
    tags: tagsSchema.optional(),
  })
  .strict();

/** Options of `registerVariable` / `registerResult` on the legacy state. */
export type RegisterOptions = z.input<typeof registerOptionsSchema>;

/** Input of `pushLoopContext`. */
export const loopContextInputSchema = z
  .object({
    loopId: idSchema,
    index: z.number().int().min(0),
    item: jsonValueSchema.optional(),
    total: z.number().int().min(0).nullable().optional(),
    isFirst: z.boolean().optional(),
    isLast: z.boolean().optional(),
    variables: z.record(z.string().min(1), jsonValueSchema).optional(),
  })
  .strict()
  .refine((loop) => loop.total === undefined || loop.total === null || loop.index < loop.total, {
    message: 'Expected index to be below total',
    path: ['index'],
  });

/**
 * What `pushLoopContext` takes. `isFirst` defaults to `index === 0`, `isLast`
 * to `index === total - 1` (false when `total` is unknown).
 */
export interface LoopContextInput {
  /** The loop's id (a step id, usually). */
  loopId: string;
  /** Zero-based iteration index. */
  index: number;
  /**
   * The current item.
   * @default null
   */
  item?: JsonValue;
  /**
   * Number of iterations, when known.
   * @default null
   */
  total?: number | null;
  /** Whether this is the first iteration. */
  isFirst?: boolean;
  /** Whether this is the last iteration. */
  isLast?: boolean;
  /**
   * Loop-local variables, visible in the context while the loop is current.
   * @default {}
   */
  variables?: Record<string, JsonValue>;
}

/** One active loop iteration (JSON). */
export const loopContextSchema = z
  .object({
    loopId: idSchema,
    index: z.number().int().min(0),
    item: jsonValueSchema,
    total: z.number().int().min(0).nullable(),
    isFirst: z.boolean(),
    isLast: z.boolean(),
    variables: z.record(z.string().min(1), jsonValueSchema),
  })
  .strict();

/** One active loop iteration, as held by the legacy state. */
export type LoopContext = z.output<typeof loopContextSchema>;

const nameRecord = <T extends z.ZodType>(value: T) => z.record(z.string().min(1), value);

/** `PipelineExecutionState.exportState()` output, validated on import. */
export const pipelineStateSchema = z
  .object({
    formatVersion: z.literal(PIPELINE_STATE_FORMAT_VERSION),
    pipelineId: idSchema,
    startTime: isoTimestampSchema,
    variables: nameRecord(jsonValueSchema),
    results: nameRecord(jsonValueSchema),
    templates: nameRecord(z.string()),
    tags: z.object({ variables: nameRecord(tagsSchema), results: nameRecord(tagsSchema) }).strict(),
    loopStack: z.array(loopContextSchema),
    tasks: z
      .object({
        executed: z.array(stateNameSchema),
        pending: z.array(stateNameSchema),
        running: z.array(stateNameSchema),
        failed: z.record(idSchema, z.string()),
      })
      .strict(),
  })
  .strict()
  .superRefine((state, ctx) => {
    // Invariants the methods keep; an import must not be able to break them.
    const seen = new Map<string, string>();
    const lists: [string, readonly string[]][] = [
      ['executed', state.tasks.executed],
      ['pending', state.tasks.pending],
      ['running', state.tasks.running],
      ['failed', Object.keys(state.tasks.failed)],
    ];
    for (const [list, ids] of lists) {
      ids.forEach((id, index) => {
        const other = seen.get(id);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['tasks', list, list === 'failed' ? id : index],
            message: `Task "${id}" is already listed as ${other}`,
          });
        }
        seen.set(id, list);
      });
    }
    for (const kind of ['variables', 'results'] as const) {
      for (const name of Object.keys(state.tags[kind])) {
        if (!Object.hasOwn(state[kind], name)) {
          ctx.addIssue({ code: 'custom', path: ['tags', kind, name], message: `No ${kind} entry named "${name}"` });
        }
      }
    }
    state.loopStack.forEach((loop, index) => {
      if (loop.total !== null && loop.index >= loop.total) {
        ctx.addIssue({ code: 'custom', path: ['loopStack', index, 'index'], message: 'Expected index to be below total' });
      }
    });
  });

/** JSON form of a {@link PipelineExecutionState} (`formatVersion: 1`). */
export type PipelineState = z.output<typeof pipelineStateSchema>;

/** Options of `new PipelineExecutionState(...)` checked at runtime (the clock is checked separately). */
export const pipelineStateOptionsSchema = z
  .object({
    pipelineId: idSchema.optional(),
    clock: z.unknown().optional(),
  })
  .strict();

/** Options of `ExecutionStateBridge.registerVariable`. */
export const bridgeRegisterOptionsSchema = z
  .object({
    varType: z.enum(Object.values(VariableType) as [VariableType, ...VariableType[]]).optional(),
    scope: z.enum(Object.values(VariableScope) as [VariableScope, ...VariableScope[]]).optional(),
    sourceStep: stateNameSchema.optional(),
    description: z.string().optional(),
    tags: tagsSchema.optional(),
  })
  .strict();

/** Envelope of `exportCombinedState()`, checked before either half is imported. */
export const combinedStateSchema = z
  .object({
    formatVersion: z.literal(PIPELINE_STATE_FORMAT_VERSION),
    executionContext: z.record(z.string(), z.unknown()),
    pipelineState: z.record(z.string(), z.unknown()),
    exportedAt: isoTimestampSchema,
  })
  .strict();
