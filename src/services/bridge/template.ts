/**
 * Template rendering of the legacy state: `${name}` and `{{ name }}` with
 * dotted paths; whatever cannot be resolved stays as written.
 *
 * @module
 */

const PLACEHOLDER = /\$\{\s*([^{}]*?)\s*\}|\{\{\s*([^{}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z_$][\w$-]*(?:\.[\w$-]+)*$/;

/** What a template is resolved against. */
export interface TemplateScope {
  /** Flat context: names (which may themselves contain dots) to values. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Named templates, resolved (recursively) when a placeholder names one that the context lacks. */
  readonly templates: ReadonlyMap<string, string>;
}

const NOT_FOUND: unique symbol = Symbol('not found');

function step(node: unknown, segment: string): unknown {
  if (Array.isArray(node)) {
    if (!/^\d+$/.test(segment)) return NOT_FOUND;
    const index = Number(segment);
    return index < node.length ? (node[index] as unknown) : NOT_FOUND;
  }
  if (typeof node === 'object' && node !== null && Object.hasOwn(node, segment)) {
    return (node as Record<string, unknown>)[segment];
  }
  return NOT_FOUND;
}

/**
 * Looks `path` up in a flat context. The longest dotted prefix that is a key
 * wins, so a name such as `progress.s1.percentage` is found as a whole before
 * `progress` is walked into.
 */
export function lookupPath(context: Readonly<Record<string, unknown>>, path: string): { found: boolean; value: unknown } {
  const segments = path.split('.');
  for (let cut = segments.length; cut > 0; cut -= 1) {
    const root = segments.slice(0, cut).join('.');
    if (!Object.hasOwn(context, root)) continue;
    let node: unknown = context[root];
    for (const segment of segments.slice(cut)) {
      node = step(node, segment);
      if (node === NOT_FOUND) break;
    }
    if (node !== NOT_FOUND) return { found: true, value: node };
  }
  return { found: false, value: undefined };
}

/** String form of a value inside rendered text: strings as they are, the rest as JSON. */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  // JSON.stringify returns undefined for undefined, functions and symbols.
  const text = JSON.stringify(value) as string | undefined;
  return text ?? String(value);
}

/**
 * Renders `template` against `scope`. Named templates re-resolve on every
 * call, so they follow the values they reference; a template that refers to
 * itself (directly or not) is left literal at the point of the cycle.
 */
export function renderTemplate(template: string, scope: TemplateScope, resolving: readonly string[] = []): string {
  return template.replace(PLACEHOLDER, (match: string, dollar: string | undefined, braces: string | undefined) => {
    const path = dollar ?? braces ?? '';
    if (!PATH.test(path)) return match;
    const hit = lookupPath(scope.context, path);
    if (hit.found) return stringify(hit.value);
    const named = scope.templates.get(path);
    if (named === undefined || resolving.includes(path)) return match;
    return renderTemplate(named, scope, [...resolving, path]);
  });
}
