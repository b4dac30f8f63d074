/**
 * The handler chain behind plan selection: per-category handlers, then
 * global ones, the user's before the built-ins of each kind.
 *
 * @module
 */
import type { ErrorCategory } from '../../constants.js';
import { ValidationFailure } from '../../errors.js';
import type { ErrorInfo } from './error-info.js';
import { BUILT_IN_CATEGORY_HANDLERS, BUILT_IN_GLOBAL_HANDLERS, type ErrorHandler } from './handlers.js';
import { RecoveryPlan, type RecoveryPlanInput } from './recovery-plan.js';

/** A plan, plan input (validated), or null/undefined for "no answer". */
export function toPlan(value: unknown, what: string): RecoveryPlan | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof RecoveryPlan) return value;
  if (typeof value === 'object') return new RecoveryPlan(value as RecoveryPlanInput);
  throw new ValidationFailure('plan', `${what}: expected a RecoveryPlan, null or undefined, got ${typeof value}`);
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function removeFrom<V>(list: V[] | undefined, value: V): void {
  const index = list?.indexOf(value) ?? -1;
  if (list !== undefined && index >= 0) list.splice(index, 1);
}

function total(lists: Iterable<readonly unknown[]>): number {
  let n = 0;
  for (const list of lists) n += list.length;
  return n;
}

/** Registered error handlers, consulted in a fixed order. */
export class HandlerRegistry {
  private readonly category = new Map<ErrorCategory, ErrorHandler[]>();
  private readonly builtInCategory = new Map<ErrorCategory, ErrorHandler[]>();
  private readonly global: ErrorHandler[] = [];
  private readonly builtInGlobal: ErrorHandler[] = [];

  constructor(builtIns: boolean) {
    if (!builtIns) return;
    for (const [category, handler] of BUILT_IN_CATEGORY_HANDLERS) addTo(this.builtInCategory, category, handler);
    this.builtInGlobal.push(...BUILT_IN_GLOBAL_HANDLERS);
  }

  /** Adds a category handler; returns its remover. */
  addCategoryHandler(category: ErrorCategory, handler: ErrorHandler): () => void {
    addTo(this.category, category, handler);
    return () => {
      removeFrom(this.category.get(category), handler);
    };
  }

  /** Adds a global handler; returns its remover. */
  addGlobalHandler(handler: ErrorHandler): () => void {
    this.global.push(handler);
    return () => {
      removeFrom(this.global, handler);
    };
  }

  /**
   * The first answer of: the user's handlers for the category, the built-in
   * one, the user's global handlers, the built-in global ones. Each handler
   * gets its own copy of `info`.
   */
  resolve(info: ErrorInfo): RecoveryPlan | undefined {
    const chain = [
      ...(this.category.get(info.category) ?? []),
      ...(this.builtInCategory.get(info.category) ?? []),
      ...this.global,
      ...this.builtInGlobal,
    ];
    for (const handler of chain) {
      const plan = toPlan(handler(structuredClone(info)), 'error handler');
      if (plan !== undefined) return plan;
    }
    return undefined;
  }

  /** Handler counts, built-ins included. */
  counts(): { categorySpecific: number; global: number } {
    return {
      categorySpecific: total(this.category.values()) + total(this.builtInCategory.values()),
      global: this.global.length + this.builtInGlobal.length,
    };
  }
}
