/**
 * `${name}` placeholder resolution, free of any storage: the manager passes a
 * lookup function, so resolution always reads current values (there is no
 * cache that could go stale when a referenced variable changes).
 *
 * Rules (the manager's TSDoc repeats them for users):
 * - `${name}` is replaced by the value of `name`; whitespace inside the braces is ignored.
 * - A name that is not found stays literally in the output (`${missing}`).
 * - A dotted name is first looked up whole (variables such as
 *   `progress.load.percentage` contain dots), then as the longest existing
 *   variable prefix followed by a path into its object or array value:
 *   `${data_info.customers}`, `${rows.0.id}`.
 * - A string value that itself contains placeholders is resolved in turn
 *   (nested templates); a reference cycle leaves the inner placeholder literal.
 * - Strings are inserted as they are, numbers/booleans/null via `String`,
 *   arrays and objects as JSON.
 *
 * @module
 */

const PLACEHOLDER = /\$\{([^}]+)\}/g;

/** Finds the current value of a whole name, or `undefined` when there is none. */
export type TemplateLookup = (name: string) => { value: unknown } | undefined;

/** True when `text` contains something that looks like a placeholder. */
export function hasPlaceholder(text: string): boolean {
  return text.includes('${');
}

function walkPath(value: unknown, segments: readonly string[]): { value: unknown } | undefined {
  let node = value;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(segment)) return undefined;
      const index = Number(segment);
      if (index >= node.length) return undefined;
      node = node[index] as unknown;
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return { value: node };
}

/** Whole name first, then the longest prefix that exists, then a path into it. */
function find(
  expression: string,
  lookup: TemplateLookup,
): { name: string; value: unknown } | undefined {
  const whole = lookup(expression);
  if (whole !== undefined) return { name: expression, value: whole.value };
  for (let dot = expression.lastIndexOf('.'); dot > 0; dot = expression.lastIndexOf('.', dot - 1)) {
    const prefix = expression.slice(0, dot);
    const base = lookup(prefix);
    if (base !== undefined) {
      const inner = walkPath(base.value, expression.slice(dot + 1).split('.'));
      return inner === undefined ? undefined : { name: prefix, value: inner.value };
    }
  }
  return undefined;
}

function stringify(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      try {
        // Undefined for what JSON cannot say; the placeholder then stays literal.
        return JSON.stringify(value);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

function fromExtra(extra: Readonly<Record<string, unknown>>): TemplateLookup {
  return (name) => (Object.hasOwn(extra, name) ? { value: extra[name] } : undefined);
}

/**
 * Replaces every `${name}` in `template` (see the module rules).
 *
 * @param template - the text to resolve.
 * @param lookup - current variables (aliases and registered templates included).
 * @param extra - values that win over variables for this call only; their
 *   strings are inserted literally.
 * @param active - names being resolved further up (cycle guard).
 */
export function resolveTemplateString(
  template: string,
  lookup: TemplateLookup,
  extra?: Readonly<Record<string, unknown>>,
  active: ReadonlySet<string> = new Set(),
): string {
  if (!hasPlaceholder(template)) return template;
  const extraLookup = extra === undefined ? undefined : fromExtra(extra);
  return template.replace(PLACEHOLDER, (placeholder, raw: string) => {
    const expression = raw.trim();
    const given = extraLookup === undefined ? undefined : find(expression, extraLookup);
    if (given !== undefined) return stringify(given.value) ?? placeholder;
    const hit = find(expression, lookup);
    if (hit === undefined) return placeholder;
    if (typeof hit.value === 'string' && hasPlaceholder(hit.value)) {
      if (active.has(hit.name)) return placeholder;
      return resolveTemplateString(hit.value, lookup, extra, new Set([...active, hit.name]));
    }
    return stringify(hit.value) ?? placeholder;
  });
}
