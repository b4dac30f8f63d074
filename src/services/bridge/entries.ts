/**
 * What the legacy state derives from a stored entry: the aliases of a step
 * result and the automatic tags of variables and results.
 *
 * @module
 */
import type { JsonValue } from '../../validation.js';
import { jsonKind } from './json.js';

/**
 * The aliases the upstream registered next to a result, so templates can use
 * whichever form they need: `<id>_result` the result itself, `<id>_value` its
 * `value` (or else `result`) field when it is an object that has one, `<id>_str`
 * its string form.
 */
export function resultAliases(stepId: string, result: JsonValue): Record<string, JsonValue> {
  let value = result;
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    if (Object.hasOwn(result, 'value')) value = result.value ?? null;
    else if (Object.hasOwn(result, 'result')) value = result.result ?? null;
  }
  return {
    [`${stepId}_result`]: result,
    [`${stepId}_value`]: value,
    [`${stepId}_str`]: typeof result === 'string' ? result : JSON.stringify(result),
  };
}

/**
 * Automatic tags, then the caller's, without duplicates: results get
 * `step_result` and `step:<id>`, variables `variable`; both `type:<json kind>`.
 */
export function entryTags(kind: 'variable' | 'result', name: string, value: JsonValue, extra: readonly string[] = []): string[] {
  const base = kind === 'result' ? ['step_result', `step:${name}`] : ['variable'];
  return [...new Set([...base, `type:${jsonKind(value)}`, ...extra])];
}
