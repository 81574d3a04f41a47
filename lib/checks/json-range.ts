import { echo, type Fields, join } from '../spec/fields.ts';

/**
 * Numeric ranges on JSON fields: in `expect.json`, a value that is an object of only `min` and/or
 * `max` (numbers) is a range, inclusive at both ends (`"latency.p99": { max: 250 }`); any other value
 * is compared by equality. Plain data, judged here: no plan text is ever evaluated as code.
 */
export interface JsonRange {
  readonly min?: number;
  readonly max?: number;
}

const rangeKeys = new Set(['min', 'max']);

/** True when `want` has the shape of a range (an object whose keys are all `min` / `max`). */
export function isJsonRange(want: unknown): want is JsonRange {
  if (want === null || typeof want !== 'object' || Array.isArray(want)) return false;
  const keys = Object.keys(want);
  return keys.length > 0 && keys.every((k) => rangeKeys.has(k));
}

/** Checks each range in an `expect.json` block: numbers, min not above max; problems name the field. */
export function checkJsonRanges(json: Readonly<Record<string, unknown>>, path: string, f: Fields): void {
  for (const [key, want] of Object.entries(json)) {
    if (!isJsonRange(want)) continue;
    const at = join(path, key);
    for (const bound of ['min', 'max'] as const) {
      const v = want[bound];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
        f.problem(join(at, bound), `expected a number, got ${echo(v)}`);
      }
    }
    if (typeof want.min === 'number' && typeof want.max === 'number' && want.min > want.max) {
      f.problem(at, `min ${want.min} is above max ${want.max}`);
    }
  }
}

/** Why `got` (the value at `path`) is outside `range`, or undefined when it is inside. */
export function rangeMismatch(path: string, got: unknown, range: JsonRange): string | undefined {
  const bounds = [
    range.min === undefined ? undefined : `>= ${range.min}`,
    range.max === undefined ? undefined : `<= ${range.max}`,
  ]
    .filter((b) => b !== undefined)
    .join(' and ');
  if (typeof got !== 'number' || !Number.isFinite(got)) {
    const shown = got === undefined ? 'missing' : `not a number (${String(JSON.stringify(got)).slice(0, 40)})`;
    return `JSON ${path} is ${shown}, expected a number ${bounds}`;
  }
  if ((range.min !== undefined && got < range.min) || (range.max !== undefined && got > range.max)) {
    return `JSON ${path} is ${got}, expected ${bounds}`;
  }
  return undefined;
}
