/**
 * Checks of a pipeline's dependency graph: duplicate ids, unknown
 * dependencies and cycles, each reported with the steps involved.
 *
 * @module
 */
import { ValidationFailure } from '../errors.js';

/** The part of a step the graph checks read. */
export interface GraphNode {
  id: string;
  dependsOn: readonly string[];
}

/**
 * Throws `INVALID_INPUT` naming the culprit: a duplicate step id, a
 * dependency on an unknown step, or a cycle (`a -> b -> a`).
 */
export function assertValidGraph(pipelineId: string, nodes: readonly GraphNode[]): void {
  const what = `definePipeline "${pipelineId}"`;
  const indexOf = new Map<string, number>();
  nodes.forEach((node, index) => {
    const first = indexOf.get(node.id);
    if (first !== undefined) {
      throw new ValidationFailure(
        `steps[${index}].id`,
        `${what}: duplicate step id "${node.id}" (steps[${first}] and steps[${index}])`,
      );
    }
    indexOf.set(node.id, index);
  });
  nodes.forEach((node, index) => {
    node.dependsOn.forEach((dependency, position) => {
      if (!indexOf.has(dependency)) {
        throw new ValidationFailure(
          `steps[${index}].dependsOn[${position}]`,
          `${what}: step "${node.id}" depends on unknown step "${dependency}"`,
        );
      }
    });
  });
  const cycle = findCycle(nodes);
  if (cycle !== null) {
    throw new ValidationFailure('steps', `${what}: dependency cycle ${cycle.join(' -> ')}`, {
      details: { cycle },
    });
  }
}

/**
 * The first cycle found, as a closed path of ids (`['a', 'b', 'a']`), or null.
 * Iterative depth-first search, so deep chains cannot overflow the stack.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | null {
  const edges = new Map(nodes.map((node) => [node.id, node.dependsOn]));
  // 1: on the current path, 2: fully explored.
  const state = new Map<string, 1 | 2>();
  for (const root of nodes) {
    if (state.has(root.id)) continue;
    const path: string[] = [root.id];
    const cursors: number[] = [0];
    state.set(root.id, 1);
    while (path.length > 0) {
      const depth = path.length - 1;
      const id = path[depth] as string;
      const next = (edges.get(id) ?? [])[cursors[depth] as number];
      if (next === undefined) {
        state.set(id, 2);
        path.pop();
        cursors.pop();
        continue;
      }
      cursors[depth] = (cursors[depth] as number) + 1;
      const seen = state.get(next);
      if (seen === 1) return [...path.slice(path.indexOf(next)), next];
      if (seen === undefined) {
        state.set(next, 1);
        path.push(next);
        cursors.push(0);
      }
    }
  }
  return null;
}
