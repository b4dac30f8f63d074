/**
 * The stack of scope aliases behind `pushScope` / `popScope`: read views that
 * map a local name (`item`) to a real variable name (`items_3`).
 *
 * @module
 */

interface PushedScope {
  readonly aliases: Record<string, string>;
  readonly map: ReadonlyMap<string, string>;
}

/** Alias scopes, innermost last. */
export class ScopeStack {
  private readonly scopes: PushedScope[] = [];

  /** Pushes validated aliases (copied, so the caller's object can change freely). */
  push(aliases: Readonly<Record<string, string>>): void {
    this.scopes.push({ aliases: { ...aliases }, map: new Map(Object.entries(aliases)) });
  }

  /** Removes the innermost scope and returns its aliases. */
  pop(): Record<string, string> | undefined {
    return this.scopes.pop()?.aliases;
  }

  /**
   * The real name behind `name`: each scope from the innermost outwards maps
   * the name reached so far, so an inner alias may point at an outer alias.
   */
  resolve(name: string): string {
    let current = name;
    for (let index = this.scopes.length - 1; index >= 0; index--) {
      current = this.scopes[index]?.map.get(current) ?? current;
    }
    return current;
  }
}
