/**
 * Which variable depends on which: forward and reverse edges kept together so
 * both `getDependencies` and `getDependents` answer without a scan, and a
 * cycle is refused before anything is added.
 *
 * @module
 */
import { ErrorCode, ExecutionError } from '../../errors.js';

/** A directed graph of variable names (edge `a -> b`: `a` depends on `b`). */
export class DependencyGraph {
  private readonly forward = new Map<string, Set<string>>();
  private readonly reverse = new Map<string, Set<string>>();

  /**
   * Adds `name -> d` for every `d` in `dependsOn`, all or nothing.
   *
   * @throws ExecutionError `DEPENDENCY_CYCLE` when an edge would close a cycle;
   *   the message spells the cycle (`a -> b -> a`) and `details.cycle` lists it.
   */
  add(name: string, dependsOn: readonly string[]): void {
    const fresh = dependsOn.filter((target) => this.forward.get(name)?.has(target) !== true);
    for (const target of fresh) {
      const path = target === name ? [] : this.findPath(target, name);
      if (path !== undefined) {
        const cycle = [name, ...path, name];
        throw new ExecutionError(
          ErrorCode.DependencyCycle,
          `Dependency cycle: ${cycle.join(' -> ')} ("${name}" cannot depend on "${target}")`,
          { details: { cycle, name, dependsOn: target } },
        );
      }
    }
    for (const target of fresh) {
      let targets = this.forward.get(name);
      if (targets === undefined) this.forward.set(name, (targets = new Set()));
      targets.add(target);
      let sources = this.reverse.get(target);
      if (sources === undefined) this.reverse.set(target, (sources = new Set()));
      sources.add(name);
    }
  }

  /**
   * The nodes of a path `from -> ... -> to` (without `to`), or undefined when
   * `to` is unreachable. Iterative DFS: graphs can be long chains.
   */
  private findPath(from: string, to: string): string[] | undefined {
    const parent = new Map<string, string | null>([[from, null]]);
    const stack = [from];
    while (stack.length > 0) {
      const node = stack.pop() as string;
      if (node === to) {
        const path: string[] = [];
        for (let at: string | null | undefined = node; at !== null && at !== undefined; at = parent.get(at)) {
          path.unshift(at);
        }
        path.pop();
        return path;
      }
      for (const child of this.forward.get(node) ?? []) {
        if (!parent.has(child)) {
          parent.set(child, node);
          stack.push(child);
        }
      }
    }
    return undefined;
  }

  /** What `name` depends on, in insertion order. */
  dependenciesOf(name: string): string[] {
    return [...(this.forward.get(name) ?? [])];
  }

  /** What depends on `name`, in insertion order. */
  dependentsOf(name: string): string[] {
    return [...(this.reverse.get(name) ?? [])];
  }

  /** JSON form: `{ name: [dependsOn...] }` (names without edges omitted). */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, targets] of this.forward) {
      if (targets.size > 0) out[name] = [...targets];
    }
    return out;
  }

  /**
   * Builds a graph from its JSON form, refusing cycles the same way as {@link add}.
   * Never touches an existing graph, so a failed import changes nothing.
   */
  static fromJSON(edges: Readonly<Record<string, readonly string[]>>): DependencyGraph {
    const graph = new DependencyGraph();
    for (const [name, targets] of Object.entries(edges)) graph.add(name, targets);
    return graph;
  }
}
