/**
 * Transitions as the machine definitions declare them, one per (source state
 * node, event type, guarded candidate), so a test can count them and compare
 * them with the transitions an actor actually takes.
 *
 * @module
 */
import { getStateNodes } from '@xstate/graph';
import type { AnyStateMachine, AnyTransitionDefinition, InspectionEvent } from 'xstate';

/** The key of the `always` candidates of a state node. */
const ALWAYS = 'always';

/**
 * Stable key of a transition definition: `<source id>|<event type>|<candidate index>`
 * (`always` for eventless ones). Keys survive `machine.provide()`, which builds
 * new definition objects, because they name positions, not objects.
 */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const source = transition.source;
  const eventless = source.always?.indexOf(transition) ?? -1;
  if (eventless >= 0) return `${source.id}|${ALWAYS}|${eventless}`;
  const eventType = String(transition.eventType);
  const index = source.transitions.get(eventType)?.indexOf(transition) ?? -1;
  if (index < 0) throw new Error(`Transition on ${eventType} is not declared by ${source.id}`);
  return `${source.id}|${eventType}|${index}`;
}

/**
 * Every transition a machine declares: `on` handlers, invoke `onDone`/`onError`
 * (xstate files them under `xstate.done.actor.<id>` / `xstate.error.actor.<id>`)
 * and `always`, one key per guarded candidate.
 */
export function definedTransitions(machine: AnyStateMachine): string[] {
  const keys: string[] = [];
  for (const node of [machine.root, ...getStateNodes(machine.root)]) {
    for (const candidates of node.transitions.values()) {
      for (const transition of candidates) keys.push(transitionKey(transition));
    }
    for (const transition of node.always ?? []) keys.push(transitionKey(transition));
  }
  return keys;
}

/** Keys of the transitions an inspection event reports as taken (empty for other events). */
export function takenTransitions(event: InspectionEvent): string[] {
  return event.type === '@xstate.microstep' ? event._transitions.map(transitionKey) : [];
}

/**
 * Transitions no path can take, each with the reason. The coverage test
 * asserts that they are really never taken, so an entry that becomes
 * reachable has to leave this list.
 */
export const KNOWN_UNREACHABLE: Readonly<Record<string, string>> = {
  'step.recovering.deciding|always|4':
    'fallback of `deciding`: entered only when planRecovers() is true, and planRecovers() is the disjunction of the four guards before it',
};
