/**
 * The JSON round trip check of every model step: the persisted snapshot
 * survives `JSON.parse(JSON.stringify(...))` and restores into a started actor
 * on a fresh scripted runtime that the caller then inspects.
 *
 * @module
 */
import { expect } from 'vitest';
import { createActor, type Actor, type AnyActorLogic } from 'xstate';
import type { StepRuntime } from '../../src/actors/step-logic.js';
import { createSwitchableRuntime, type ScriptedRuntime } from './runtime.js';

/** Checks one persisted snapshot; `expectedKey` names the model state `verify` compares with. */
export type RestoreCheck<TLogic extends AnyActorLogic> = (
  persisted: unknown,
  expectedKey: string,
  now: number,
  verify: (restored: Actor<TLogic>, fresh: ScriptedRuntime) => void,
) => void;

/**
 * A restore check for logic built by `build`. Restoring is deterministic, so
 * a (snapshot, expected state, time) already checked is not checked again:
 * shortest paths share most of their prefixes.
 */
export function createRestoreCheck<TLogic extends AnyActorLogic>(
  build: (runtime: StepRuntime) => TLogic,
  actorId?: string,
): RestoreCheck<TLogic> {
  const switchable = createSwitchableRuntime();
  const logic = build(switchable.runtime);
  const checked = new Set<string>();
  return (persisted, expectedKey, now, verify) => {
    const text = JSON.stringify(persisted);
    const json: unknown = JSON.parse(text);
    expect(json, 'the persisted snapshot survives JSON').toEqual(persisted);
    const key = `${now}\n${expectedKey}\n${text}`;
    if (checked.has(key)) return;
    const fresh = switchable.next(now);
    // The generic logic hides which options are required; none are for a restore.
    const restored = createActor(logic as AnyActorLogic, {
      snapshot: json as never,
      clock: fresh.clock,
      ...(actorId === undefined ? {} : { id: actorId }),
    }) as Actor<TLogic>;
    const errors: unknown[] = [];
    restored.subscribe({ error: (error: unknown) => errors.push(error) });
    restored.start();
    try {
      verify(restored, fresh);
      expect(errors, 'errors after restore').toEqual([]);
    } finally {
      restored.stop();
    }
    checked.add(key);
  };
}
