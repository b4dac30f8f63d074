/**
 * Loop iterations of the legacy state: building a {@link LoopContext} from
 * what `pushLoopContext` gets, and the `$item`/`$index`/... names a loop adds
 * to the available context.
 *
 * @module
 */
import { parseInput } from '../../validation.js';
import type { JsonValue } from '../../validation.js';
import { loopContextInputSchema } from './schemas.js';
import type { LoopContext, LoopContextInput } from './schemas.js';

/** Validates `pushLoopContext`'s input and fills in the derived flags. */
export function toLoopContext(input: LoopContextInput): LoopContext {
  const parsed = parseInput(loopContextInputSchema, input, 'pushLoopContext');
  const total = parsed.total ?? null;
  return {
    loopId: parsed.loopId,
    index: parsed.index,
    item: parsed.item ?? null,
    total,
    isFirst: parsed.isFirst ?? parsed.index === 0,
    isLast: parsed.isLast ?? (total !== null && parsed.index === total - 1),
    variables: parsed.variables ?? {},
  };
}

function ownVariables(loop: LoopContext): Record<string, JsonValue> {
  return {
    ...loop.variables,
    $item: loop.item,
    $index: loop.index,
    $is_first: loop.isFirst,
    $is_last: loop.isLast,
    $total: loop.total,
    $loop_id: loop.loopId,
  };
}

/**
 * Names a loop stack adds to the context: the innermost loop's variables as
 * they are (`$item`, `$index`, `$is_first`, `$is_last`, `$total`, `$loop_id`
 * and its own `variables`), each enclosing loop's prefixed with
 * `parent_<depth>_` (depth 1 = the loop just outside), as the upstream did.
 */
export function loopVariables(stack: readonly LoopContext[]): Record<string, JsonValue> {
  const current = stack.at(-1);
  if (current === undefined) return {};
  const out: Record<string, JsonValue> = {};
  for (let depth = 1; depth < stack.length; depth += 1) {
    const parent = stack[stack.length - 1 - depth];
    if (parent === undefined) break;
    for (const [key, value] of Object.entries(ownVariables(parent))) out[`parent_${depth}_${key}`] = value;
  }
  return Object.assign(out, ownVariables(current));
}
