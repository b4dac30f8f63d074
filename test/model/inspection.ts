/**
 * What real actors did, from an `inspect` observer: the declared transitions
 * each actor took and the snapshots it went through, per actor label.
 *
 * @module
 */
import type { ActorRefLike, InspectionEvent, Snapshot } from 'xstate';
import { takenTransitions } from './transitions.js';

function idOf(actor: ActorRefLike): string | null {
  return 'id' in actor && typeof actor.id === 'string' ? actor.id : null;
}

/** Records transitions and snapshots per actor; `label` names an actor by its id (null to ignore it). */
export class Recorder {
  /** Every transition key taken since creation, by every machine actor (for coverage). */
  readonly all: string[] = [];
  private transitions = new Map<string, string[]>();
  private snapshots = new Map<string, Snapshot<unknown>[]>();

  constructor(private readonly label: (id: string) => string | null) {}

  /** The `inspect` option of `createActor`. */
  readonly inspect = (event: InspectionEvent): void => {
    const id = idOf(event.actorRef);
    const label = id === null ? null : this.label(id);
    if (label === null) return;
    if (event.type === '@xstate.microstep') {
      const keys = takenTransitions(event);
      // Stopping an actor is a microstep without transitions.
      if (keys.length === 0) return;
      this.all.push(...keys);
      this.transitions.set(label, [...(this.transitions.get(label) ?? []), ...keys]);
    } else if (event.type === '@xstate.snapshot') {
      this.snapshots.set(label, [...(this.snapshots.get(label) ?? []), event.snapshot]);
    }
  };

  /** Transitions per actor since the last `take`, then forgets them. */
  takeTransitions(): Map<string, string[]> {
    const taken = this.transitions;
    this.transitions = new Map();
    return taken;
  }

  /** Snapshots per actor since the last `take`, then forgets them. */
  takeSnapshots(): Map<string, Snapshot<unknown>[]> {
    const taken = this.snapshots;
    this.snapshots = new Map();
    return taken;
  }
}
