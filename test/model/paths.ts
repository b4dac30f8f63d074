/**
 * Path generation for the model tests: shortest paths and simple paths from
 * `@xstate/graph`, plus one path per declared transition that neither set
 * takes (shortest path to a state where the transition is enabled, then the
 * event), so every reachable transition is driven at least once.
 *
 * @module
 */
import { getAdjacencyMap, getShortestPaths, getSimplePaths, type AdjacencyMap, type AdjacencyValue, type StatePath } from '@xstate/graph';
import type { ActorLogic, EventObject, Snapshot } from 'xstate';

/** What one model edge does: the declared transitions it takes (keys) and anything else the driver checks. */
export interface EdgeTrace {
  transitions: readonly string[];
}

/**
 * A model over some abstract state `S` whose edges are events `E`: `step`
 * computes one edge (pure, deterministic) with its trace.
 */
export interface Model<S extends Snapshot<unknown>, E extends EventObject, T extends EdgeTrace> {
  name: string;
  initial: S;
  events: readonly E[] | ((state: S) => readonly E[]);
  serialize: (state: S) => string;
  /** Stop exploring from a state (bounds counters). */
  stopWhen?: (state: S) => boolean;
  step: (state: S, event: E) => { next: S; trace: T };
}

/** One step of a path: the event sent, the state the model reaches, what the edge does. */
export interface PathStep<S, E, T> {
  event: E;
  state: S;
  trace: T;
}

/** How a path was found. */
export type PathKind = 'shortest' | 'simple' | 'transition';

/** A path from the model's initial state. */
export interface ModelPath<S, E, T> {
  model: string;
  kind: PathKind;
  initial: S;
  steps: PathStep<S, E, T>[];
}

/** Options of {@link generatePaths}. */
export interface GenerateOptions<S> {
  /**
   * Tighter bound for simple paths (their number grows with every cycle).
   * @default the model's stopWhen
   */
  simpleStopWhen?: (state: S) => boolean;
  /**
   * Skip simple paths (when the model is too large for them).
   * @default false
   */
  skipSimple?: boolean;
  /**
   * Traversal limit; exceeding it throws, which flags an unbounded model.
   * @default 50_000
   */
  limit?: number;
}

/** One edge of the explored model. */
export interface ModelEdge<S, E, T> {
  state: S;
  event: E;
  next: S;
  trace: T;
}

/** The generated paths and the model's size. */
export interface GeneratedPaths<S, E, T> {
  paths: ModelPath<S, E, T>[];
  /** Every edge explored (the adjacency map), for checks that need more than the paths. */
  edgeList: ModelEdge<S, E, T>[];
  states: number;
  edges: number;
  /** Paths found, per kind, before prefixes were dropped. */
  found: Record<PathKind, number>;
  /** Paths kept, per kind. */
  counts: Record<PathKind, number>;
}

/** The model with each edge computed once: the graph functions each rebuild the adjacency map. */
function memoized<S extends Snapshot<unknown>, E extends EventObject, T extends EdgeTrace>(
  model: Model<S, E, T>,
): { model: Model<S, E, T>; logic: ActorLogic<S, E> } {
  const cache = new Map<string, { next: S; trace: T }>();
  // States and events are immutable: their serialisations are computed once.
  const states = new WeakMap<S, string>();
  const events = new WeakMap<E, string>();
  const serialize = (state: S): string => {
    let text = states.get(state);
    if (text === undefined) {
      text = model.serialize(state);
      states.set(state, text);
    }
    return text;
  };
  const keyOf = (event: E): string => {
    let text = events.get(event);
    if (text === undefined) {
      text = eventKey(event);
      events.set(event, text);
    }
    return text;
  };
  const step = (state: S, event: E): { next: S; trace: T } => {
    const key = `${serialize(state)}\n${keyOf(event)}`;
    let edge = cache.get(key);
    if (edge === undefined) {
      edge = model.step(state, event);
      cache.set(key, edge);
    }
    return edge;
  };
  const logic: ActorLogic<S, E> = {
    transition: (state, event) => step(state, event).next,
    getInitialSnapshot: () => model.initial,
    getPersistedSnapshot: (state) => state,
  };
  return { model: { ...model, serialize, step }, logic };
}

function traversal<S extends Snapshot<unknown>, E extends EventObject, T extends EdgeTrace>(
  model: Model<S, E, T>,
  stopWhen: ((state: S) => boolean) | undefined,
  limit: number,
) {
  return {
    fromState: model.initial,
    events: model.events,
    serializeState: (state: S) => model.serialize(state),
    limit,
    ...(stopWhen === undefined ? {} : { stopWhen }),
  };
}

/** Re-runs a graph path through `model.step`, checking each state agrees. */
function toModelPath<S extends Snapshot<unknown>, E extends EventObject, T extends EdgeTrace>(
  model: Model<S, E, T>,
  kind: PathKind,
  path: StatePath<S, E>,
): ModelPath<S, E, T> {
  // @xstate/graph puts a synthetic `xstate.init` step first; the rest are (event, state reached).
  const steps: PathStep<S, E, T>[] = [];
  let state = model.initial;
  for (const graphStep of path.steps.slice(1)) {
    const { next, trace } = model.step(state, graphStep.event);
    if (model.serialize(next) !== model.serialize(graphStep.state)) {
      throw new Error(`${model.name}: model.step disagrees with logic.transition on ${graphStep.event.type}`);
    }
    steps.push({ event: graphStep.event, state: next, trace });
    state = next;
  }
  return { model: model.name, kind, initial: model.initial, steps };
}

function eventKey(event: EventObject): string {
  // Error payloads stringify to {}; a model tells its error events apart by type.
  return JSON.stringify(event);
}

/** Drops paths whose event sequence is a prefix of another path's: every step is asserted anyway. */
export function withoutPrefixes<S, E extends EventObject, T>(paths: ModelPath<S, E, T>[]): ModelPath<S, E, T>[] {
  const keyed = paths
    .map((path) => ({ path, key: path.steps.map((step) => eventKey(step.event) + '\n').join('') }))
    .sort((a, b) => b.key.length - a.key.length);
  const kept: typeof keyed = [];
  for (const candidate of keyed) {
    if (!kept.some((longer) => longer.key.startsWith(candidate.key))) kept.push(candidate);
  }
  return kept.map((entry) => entry.path);
}

/**
 * Shortest paths to every state, simple paths, and transition-covering paths
 * for `model`, without prefixes. Throws when a declared transition that is
 * reachable in the model could not be given a path.
 */
export function generatePaths<S extends Snapshot<unknown>, E extends EventObject, T extends EdgeTrace>(
  source: Model<S, E, T>,
  options: GenerateOptions<S> = {},
): GeneratedPaths<S, E, T> {
  const { model, logic } = memoized(source);
  const limit = options.limit ?? 50_000;
  const options_ = traversal(model, model.stopWhen, limit);
  const shortest = getShortestPaths(logic, options_).map((path) => toModelPath(model, 'shortest', path));
  const simple =
    options.skipSimple === true
      ? []
      : getSimplePaths(logic, traversal(model, options.simpleStopWhen ?? model.stopWhen, limit)).map((path) =>
          toModelPath(model, 'simple', path),
        );

  const covered = new Set<string>();
  for (const path of [...shortest, ...simple]) {
    for (const step of path.steps) for (const key of step.trace.transitions) covered.add(key);
  }
  const shortestTo = new Map(shortest.map((path) => [model.serialize(path.steps.at(-1)?.state ?? path.initial), path]));
  const adjacency: AdjacencyMap<S, E> = getAdjacencyMap(logic, options_);
  const edgeList: ModelEdge<S, E, T>[] = [];
  const cover: ModelPath<S, E, T>[] = [];
  // Keys are branded strings, which Object.entries does not see as an index signature.
  for (const [serialized, { state, transitions }] of Object.entries(adjacency) as [string, AdjacencyValue<S, E>][]) {
    for (const { event } of Object.values(transitions) as { event: E }[]) {
      const { next, trace } = model.step(state, event);
      edgeList.push({ state, event, next, trace });
      if (trace.transitions.every((key) => covered.has(key))) continue;
      const head = shortestTo.get(serialized);
      if (head === undefined) throw new Error(`${model.name}: no shortest path to ${serialized}`);
      for (const key of trace.transitions) covered.add(key);
      cover.push({ ...head, kind: 'transition', steps: [...head.steps, { event, state: next, trace }] });
    }
  }
  const paths = withoutPrefixes([...shortest, ...simple, ...cover]);
  const counts: Record<PathKind, number> = { shortest: 0, simple: 0, transition: 0 };
  for (const path of paths) counts[path.kind]++;
  const found = { shortest: shortest.length, simple: simple.length, transition: cover.length };
  return { paths, edgeList, states: Object.keys(adjacency).length, edges: edgeList.length, found, counts };
}

/** Readable one-line description of a path, for test names and failure messages. */
export function describePath<S, E extends EventObject, T>(path: ModelPath<S, E, T>): string {
  return `${path.model}/${path.kind}: ${path.steps.map((step) => step.event.type).join(' → ') || '(initial)'}`;
}
