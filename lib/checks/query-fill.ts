import { PlanError } from '../spec/errors.ts';
import type { DeploymentContext, PlaceholderName } from '../spec/placeholders.ts';

const pattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * Fills the `{{placeholders}}` of a provider query from the deployment, each value placed by `place`,
 * which knows the query language and escapes the value for where it stands (or throws a `PlanError`
 * when it cannot be placed safely). A placeholder without a value, and `{{secret:...}}`, are left for
 * the common filling to report. Runs before the common filling (a kind's `prepare`).
 */
export function fillQuery(
  template: string,
  context: DeploymentContext,
  place: (value: string, name: string, before: string) => string,
): string {
  return template.replace(pattern, (whole, name: string, offset: number) => {
    if (name.startsWith('secret:')) return whole;
    const value = Object.hasOwn(context, name) ? context[name as PlaceholderName] : undefined;
    if (typeof value !== 'string' || value === '') return whole;
    return place(value, name, template.slice(0, offset));
  });
}

/** Where a PromQL template stands at its end: outside any string, or inside a string opened by `quote`. */
function promqlState(text: string): { quote?: string; regex: boolean } {
  let quote: string | undefined;
  let regex = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === undefined) {
      if (c === '#') {
        // A comment runs to the end of the line.
        const nl = text.indexOf('\n', i);
        if (nl === -1) return { regex: false };
        i = nl;
      } else if (c === '"' || c === "'" || c === '`') {
        quote = c;
        regex = /[=!]~\s*$/.test(text.slice(0, i));
      }
    } else if (c === '\\' && quote !== '`') i++;
    else if (c === quote) quote = undefined;
  }
  return quote === undefined ? { regex: false } : { quote, regex };
}

const promqlToken = /^(?:-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*)$/i;

/**
 * Places a value in PromQL: inside a string literal it is escaped for that literal (and, in a regex
 * matcher `=~` / `!~`, its regex characters are escaped too, so `orders.api` matches only itself);
 * outside a string it must be a number or a name, else the plan must quote it.
 * https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals
 */
export function placePromql(path: string): (value: string, name: string, before: string) => string {
  return (value, name, before) => {
    const state = promqlState(before);
    if (state.quote === undefined) {
      if (promqlToken.test(value)) return value;
      throw new PlanError([
        `${path}: {{${name}}} is outside a string literal and its value is not a plain number or name; put it in quotes`,
      ]);
    }
    const literal = state.regex ? value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&') : value;
    if (state.quote === '`') {
      // Braces too: the common filling that runs next must never read a deployment value as a placeholder.
      if (literal.includes('`') || literal.includes('{') || literal.includes('}'))
        throw new PlanError([`${path}: the value of {{${name}}} cannot stand in a \`raw\` string`]);
      return literal;
    }
    return (
      literal
        .replace(/\\/g, '\\\\')
        .replace(new RegExp(state.quote, 'g'), `\\${state.quote}`)
        .replace(/\n/g, '\\n')
        .replace(/\r/g, '\\r')
        .replace(/\t/g, '\\t')
        // Go's \x escapes (PromQL strings unquote as Go's do): the common filling that runs next must never
        // read a deployment value such as an application named `{{secret:db}}` as a placeholder.
        .replace(/\{/g, '\\x7b')
        .replace(/\}/g, '\\x7d')
    );
  };
}

/** Datadog tag values: letters, digits and `_ - : . /` (https://docs.datadoghq.com/getting_started/tagging/). */
const datadogTag = /^[A-Za-z0-9_\-:./]+$/;

/** Places a value in a Datadog query: only a value a tag can hold, so it can neither end a scope nor add one. */
export function placeDatadog(path: string): (value: string, name: string) => string {
  return (value, name) => {
    if (datadogTag.test(value)) return value;
    throw new PlanError([
      `${path}: the value of {{${name}}} has characters a Datadog tag cannot hold (letters, digits, _ - : . / only)`,
    ]);
  };
}
