/**
 * An actor scope for calling a pure machine's `transition` outside a running
 * actor, recording what the machine asked for (sends, emits, spawns, stops)
 * and which declared transitions it took.
 *
 * `@xstate/graph`'s own mock scope has no parent, so a machine that uses
 * `sendParent` (the step machine) throws inside `getShortestPaths`; this scope
 * gives `self` a parent and records instead of delivering.
 *
 * @module
 */
import {
  createActor,
  createEmptyActor,
  fromTransition,
  type AnyActorRef,
  type AnyActorScope,
  type AnyStateMachine,
  type EventObject,
  type ExecutableActionObject,
} from 'xstate';
import { takenTransitions } from './transitions.js';

/** An effect a machine asked for during one `transition` call. */
export type RecordedAction =
  | { kind: 'send'; to: string; event: EventObject }
  | { kind: 'emit'; event: EventObject }
  | { kind: 'spawn'; id: string; input: unknown }
  | { kind: 'stop'; id: string };

/** What one `transition` call did. */
export interface Trace {
  /** Keys of the declared transitions taken, in order (see `transitionKey`). */
  transitions: string[];
  actions: RecordedAction[];
}

/** A recording scope; `take()` returns what was recorded since the last call. */
export interface ModelScope {
  scope: AnyActorScope;
  take: () => Trace;
}

/** The scope type a machine's `transition` expects (cast a {@link ModelScope} scope to it). */
export type ScopeOf<TMachine extends AnyStateMachine> = Parameters<TMachine['transition']>[2];

/** The target name of a send: `parent` for `sendParent`, else the child's id. */
export const PARENT = 'parent';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isActorRef(value: unknown): value is AnyActorRef {
  return isRecord(value) && typeof value.id === 'string' && typeof value.send === 'function';
}

function isEvent(value: unknown): value is EventObject {
  return isRecord(value) && typeof value.type === 'string';
}

function recordAction(self: AnyActorRef, action: ExecutableActionObject): RecordedAction | null {
  const params: unknown = action.params;
  switch (action.type) {
    case 'xstate.sendTo': {
      if (!isRecord(params) || !isEvent(params.event)) return null;
      const to = params.to;
      const target = to === self._parent ? PARENT : isActorRef(to) ? to.id : String(to);
      return { kind: 'send', to: target, event: params.event };
    }
    case 'xstate.emit':
      return isRecord(params) && isEvent(params.event) ? { kind: 'emit', event: params.event } : null;
    case 'xstate.spawnChild':
      return isRecord(params) && typeof params.id === 'string' ? { kind: 'spawn', id: params.id, input: params.input } : null;
    case 'xstate.stopChild':
      return isActorRef(params) ? { kind: 'stop', id: params.id } : null;
    default:
      return null;
  }
}

const idle = fromTransition((state: null) => state, null);

/**
 * A scope for `machine.transition(snapshot, event, scope)`. Use one per call:
 * the actors a transition spawns (never started) stay registered in the
 * scope's system, which is garbage once the call's result is dropped.
 *
 * @example
 * const { scope, take } = createModelScope();
 * const next = stepMachine.transition(snapshot, { type: 'STEP.RUN' }, scope);
 * take().transitions; // ['step.pending|STEP.RUN|0']
 */
export function createModelScope(): ModelScope {
  // Never started: they only lend the machine a `self` with a parent and a system.
  const self: AnyActorRef = createActor(idle, { parent: createEmptyActor() });
  let trace: Trace = { transitions: [], actions: [] };
  self.system.inspect((event) => {
    if (event.actorRef === self) trace.transitions.push(...takenTransitions(event));
  });
  const scope: AnyActorScope = {
    self,
    id: 'model',
    sessionId: 'model',
    logger: () => undefined,
    defer: () => undefined,
    emit: () => undefined,
    system: self.system,
    stopChild: () => undefined,
    actionExecutor: (action) => {
      const recorded = recordAction(self, action);
      if (recorded !== null) trace.actions.push(recorded);
    },
  };
  return {
    scope,
    take: () => {
      const taken = trace;
      trace = { transitions: [], actions: [] };
      return taken;
    },
  };
}
