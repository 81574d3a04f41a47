import { describe, echo, join } from '../spec/fields.ts';
import { isRouteSegment } from './route.ts';

/**
 * What a plan's `include` may name: shared check sets, read from the plan library before the plan is
 * parsed (`shared/<name>` under GREENLIGHT_PLAN_PREFIX). A name that is absent was looked for and not found.
 */
export interface SharedChecks {
  /** Each included name's document (parsed JSON or YAML), or undefined when the library has none. */
  readonly sets: ReadonlyMap<string, unknown>;
  /** Where a name was looked for (an SSM parameter name, a file), for messages. */
  readonly where: (name: string) => string;
}

export interface ComposeOptions {
  /** The shared check sets `include` names; without them, a plan with `include` is refused. */
  readonly shared?: SharedChecks | undefined;
}

/** The plan fields composition reads and removes before the plan's own schema reads the rest. */
export const composeFields = ['include', 'variables'] as const;

const variableNamePattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const maxVariables = 50;
const maxVariableChars = 1024;
const maxIncludes = 10;
const sharedFields = ['version', 'description', 'checks'];
/** `{{var.name}}`, spaces inside the braces allowed as for every placeholder. */
const variablePattern = /\{\{\s*var\.([^{}]*?)\s*\}\}/g;

/** The names a plan document's `include` lists (valid ones only): what to read before `composePlan`. */
export function includedNames(raw: unknown): string[] {
  const list = record(raw)?.include;
  if (!Array.isArray(list)) return [];
  return list.filter((n): n is string => typeof n === 'string' && isRouteSegment(n)).slice(0, maxIncludes);
}

/**
 * Resolves a plan document's `include` and `variables` into a plain plan document:
 * - `include: [name, ...]`: the `checks` of each shared check set join the plan's own. A name defined
 *   twice (by the plan and a set, or by two sets) is a plan error, never a silent override.
 * - `variables: {name: text}`: every `{{var.name}}` in the checks (own and included) is replaced by its
 *   text. A `{{var.x}}` the plan does not define is a plan error, as is a variable holding `{{`.
 * Anything else is left for the plan's schema. Returns the document and every problem with its field
 * (`path: message`), for the plan's reader to list with its own: one mistake never hides another.
 */
export function composePlan(
  raw: unknown,
  options: ComposeOptions = {},
): { readonly document: unknown; readonly issues: readonly string[] } {
  const top = record(raw);
  if (!top || (top.include === undefined && top.variables === undefined && !usesVariables(top.checks))) {
    return { document: raw, issues: [] };
  }
  const issues: string[] = [];
  const problem = (path: string, message: string): void => {
    issues.push(`${path}: ${message}`);
  };
  const variables = readVariables(top.variables, problem);

  // Null prototype: a check named `constructor` never finds Object.prototype's.
  const checks: Record<string, unknown> = Object.assign(Object.create(null), record(top.checks) ?? {});
  const origin = new Map<string, string>(Object.keys(checks).map((n) => [n, 'the plan']));
  if (top.include !== undefined) {
    if (!Array.isArray(top.include))
      problem('include', `expected a list of shared check set names, got ${describe(top.include)}`);
    else if (top.include.length > maxIncludes) problem('include', `must list at most ${maxIncludes} shared check sets`);
    else {
      for (const [i, name] of top.include.entries()) {
        const path = join('include', i);
        if (typeof name !== 'string' || !isRouteSegment(name)) {
          problem(path, 'expected a shared check set name (letters, digits, "_", ".", "-")');
          continue;
        }
        if (!options.shared) {
          problem(
            path,
            'shared check sets are read from the plan library: set GREENLIGHT_PLAN_PREFIX (greenlight validate: --library)',
          );
          continue;
        }
        const set = options.shared.sets.get(name);
        if (set === undefined) {
          problem(path, `no shared check set ${echo(name)} (looked for ${options.shared.where(name)})`);
          continue;
        }
        const from = `shared check set ${name}`;
        const doc = record(set);
        if (!doc) {
          problem(path, `${from}: expected an object with version and checks, got ${describe(set)}`);
          continue;
        }
        for (const key of Object.keys(doc)) {
          if (!sharedFields.includes(key))
            problem(path, `${from}: unknown field ${echo(key)} (expected one of: ${sharedFields.join(', ')})`);
        }
        if (doc.version !== 1) problem(path, `${from}: version: expected 1, got ${echo(doc.version)}`);
        const own = record(doc.checks);
        if (!own) {
          problem(path, `${from}: checks: expected an object, got ${describe(doc.checks)}`);
          continue;
        }
        for (const [check, value] of Object.entries(own)) {
          const first = origin.get(check);
          if (first !== undefined) {
            problem(join('checks', check), `defined by ${first} and by ${from}: give each check one definition`);
            continue;
          }
          origin.set(check, from);
          checks[check] = value;
        }
      }
    }
  }
  const filled = fillVariables(checks, 'checks', variables, problem);
  const { include: _include, variables: _variables, ...rest } = top;
  return {
    document: { ...rest, ...(top.checks === undefined && origin.size === 0 ? {} : { checks: filled }) },
    issues,
  };
}

function readVariables(value: unknown, problem: (path: string, message: string) => void): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (value === undefined) return out;
  const vars = record(value);
  if (!vars) {
    problem('variables', `expected an object of names to text, got ${describe(value)}`);
    return out;
  }
  const entries = Object.entries(vars);
  if (entries.length > maxVariables) problem('variables', `must have at most ${maxVariables} variables`);
  for (const [name, v] of entries.slice(0, maxVariables)) {
    const path = join('variables', name);
    if (!variableNamePattern.test(name)) {
      problem(path, 'variable names start with a letter and use letters, digits and "_" (at most 64)');
      continue;
    }
    // Numbers and booleans as YAML writes them (`expectedVersion: 42`) are text to a placeholder.
    const text = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    if (typeof text !== 'string' || text.length === 0 || text.length > maxVariableChars) {
      problem(path, `expected text of 1-${maxVariableChars} characters, got ${describe(v)}`);
      continue;
    }
    if (text.includes('{{')) {
      problem(path, 'a variable holds plain text, not placeholders ("{{")');
      continue;
    }
    out.set(name, text);
  }
  return out;
}

/** A copy of `value` with every `{{var.name}}` replaced; one pass, so a value is never read again. */
function fillVariables(
  value: unknown,
  path: string,
  variables: ReadonlyMap<string, string>,
  problem: (path: string, message: string) => void,
): unknown {
  if (typeof value === 'string') {
    const filled = value.replace(variablePattern, (whole, name: string) => {
      const text = variables.get(name);
      if (text === undefined) {
        const shown = variableNamePattern.test(name) ? `{{var.${name}}}` : '{{var.…}}';
        problem(
          path,
          `unknown variable ${shown} (the plan's variables: ${variables.size ? [...variables.keys()].join(', ') : 'none'})`,
        );
        return whole;
      }
      return text;
    });
    // Values next to each other (`{` then `{testListenerUrl}}`) must not make a placeholder the plan did not
    // write: a variable is text, never a placeholder (nor half of one).
    const placeholders = (text: string) => text.replaceAll(variablePattern, '').split('{{').length - 1;
    if (placeholders(filled) > placeholders(value)) {
      problem(path, 'its variables, once filled in, make a placeholder ("{{"): a variable holds plain text');
      return value;
    }
    return filled;
  }
  if (Array.isArray(value)) return value.map((v, i) => fillVariables(v, join(path, i), variables, problem));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(value)) out[k] = fillVariables(v, join(path, k), variables, problem);
    return out;
  }
  return value;
}

function usesVariables(value: unknown): boolean {
  if (typeof value === 'string') return /\{\{\s*var\./.test(value);
  if (Array.isArray(value)) return value.some(usesVariables);
  if (value !== null && typeof value === 'object') return Object.values(value).some(usesVariables);
  return false;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
