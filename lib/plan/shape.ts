/**
 * The plan's structure as plain data: what each field is (a string of at most so many characters, an
 * integer in a range, a duration, a list, a closed object, ...). One description serves two readers:
 * `checkShape` below, the structural pass of plan validation, which reports through `Fields` and so with
 * the same words as every other plan problem (field path, what was expected, what was given); and
 * lib/plan/json-schema.ts, which turns it into the JSON Schema editors use (through zod, loaded only by
 * `greenlight schema` and the tests: nothing here imports a schema library, so the functions' bundles do
 * not carry one).
 *
 * A shape says only what JSON Schema can say too; what it cannot (a duration's upper bound, the
 * schedule's length per trigger, RE2 syntax, a hook listing a check the plan has, fields that exclude
 * each other) is judged by the readers after this pass (lib/plan/schema.ts and each check kind's `parse`).
 * The one exception is a duration's or a count's message: the pass says it as the readers do.
 */
import { describe, echo, Fields, join } from '../spec/fields.ts';

interface Doc {
  /** Shown by editors on hover; becomes the JSON Schema `description`. */
  readonly description?: string;
}

/** A string of `min` to `max` characters, matching `pattern` when given (said as `patternText`). */
export interface StringShape extends Doc {
  readonly kind: 'string';
  readonly min: number;
  readonly max: number;
  readonly pattern?: RegExp;
  readonly patternText?: string;
}

/** An integer from `min` to `max`; `belowMin` explains a value below `min` (`count: 0`). */
export interface IntegerShape extends Doc {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
  readonly belowMin?: string;
}

/** A finite number, from `min` to `max` when both are given. */
export interface NumberShape extends Doc {
  readonly kind: 'number';
  readonly min?: number;
  readonly max?: number;
}

export interface BooleanShape extends Doc {
  readonly kind: 'boolean';
}

/** One of `values`; a problem says `expected <text>`, by default `one of a, b, c`. */
export interface EnumShape extends Doc {
  readonly kind: 'enum';
  readonly values: readonly (string | number | boolean | null)[];
  readonly text?: string;
}

/** A duration written `500ms`, `5s`, `2m` or `1h` (decimals allowed), at most `maxMs`. */
export interface DurationShape extends Doc {
  readonly kind: 'duration';
  readonly maxMs: number;
}

/** A list of at most `max` items; fewer than `min` is `minText`. */
export interface ListShape extends Doc {
  readonly kind: 'list';
  readonly items: Shape;
  readonly max?: number;
  readonly min?: number;
  readonly minText?: string;
}

/**
 * An object whose keys the plan chooses (check names, secret names, hook names, metric ids), each
 * holding a `values`. `keys` restricts the names (a pattern or a list), `message` saying what a bad one
 * is; `skipBadKeys` leaves a badly named entry's value unread. Between `min` and `max` entries: outside
 * that, `countText`, and only the first `max` entries are read when `readFirst` (else none).
 */
export interface MapShape extends Doc {
  readonly kind: 'map';
  readonly values: Shape;
  readonly keys?: {
    readonly pattern?: RegExp;
    readonly names?: readonly string[];
    readonly message: string;
    readonly skipBadKeys: boolean;
  };
  readonly min?: number;
  readonly max?: number;
  readonly countText?: string;
  readonly readFirst?: boolean;
}

/** HTTP header fields (RFC 9110 field names to string values), at most `max`; see `Fields.headers`. */
export interface HeadersShape extends Doc {
  readonly kind: 'headers';
  readonly max: number;
}

/** An object with exactly these fields (any other is an unknown field), those in `required` present. */
export interface ObjectShape extends Doc {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, Shape>>;
  readonly required: readonly string[];
}

/**
 * Any of `options`. When none fits, a list goes to the list option, otherwise the problem is the one
 * `options[report]` finds, or, without `report`, `expected <text>, got <value>`.
 */
export interface AnyOfShape extends Doc {
  readonly kind: 'anyOf';
  readonly options: readonly Shape[];
  readonly report?: number;
  readonly text?: string;
}

/** Any JSON value (a request body, a payload, a value a JSON field must equal). */
export interface JsonShape extends Doc {
  readonly kind: 'json';
}

/**
 * An object whose `tag` field (a check's `type`) chooses its fields: `common` ones and its variant's.
 * `unknownTag` says what a missing or unknown tag is, given the value found.
 */
export interface TaggedShape extends Doc {
  readonly kind: 'tagged';
  readonly tag: string;
  readonly common: Readonly<Record<string, Shape>>;
  readonly variants: Readonly<Record<string, ObjectShape>>;
  readonly unknownTag: (found: unknown) => string;
}

export type Shape =
  | StringShape
  | IntegerShape
  | NumberShape
  | BooleanShape
  | EnumShape
  | DurationShape
  | ListShape
  | MapShape
  | HeadersShape
  | ObjectShape
  | AnyOfShape
  | JsonShape
  | TaggedShape;

type Options<S extends Shape> = Partial<Omit<S, 'kind'>>;

/** `Fields.string`'s defaults: 1 to 8192 characters. */
export function str(o: Options<StringShape> = {}): StringShape {
  return { kind: 'string', min: 1, max: 8192, ...o };
}

export function int(min: number, max: number, o: Options<IntegerShape> = {}): IntegerShape {
  return { kind: 'integer', min, max, ...o };
}

export function num(o: Options<NumberShape> = {}): NumberShape {
  return { kind: 'number', ...o };
}

export function bool(o: Options<BooleanShape> = {}): BooleanShape {
  return { kind: 'boolean', ...o };
}

export function oneOf(values: readonly (string | number | boolean | null)[], o: Options<EnumShape> = {}): EnumShape {
  return { kind: 'enum', values, ...o };
}

export function duration(maxMs: number, o: Options<DurationShape> = {}): DurationShape {
  return { kind: 'duration', maxMs, ...o };
}

export function list(items: Shape, max?: number, o: Options<ListShape> = {}): ListShape {
  return { kind: 'list', items, ...(max === undefined ? {} : { max }), ...o };
}

export function map(values: Shape, o: Options<MapShape> = {}): MapShape {
  return { kind: 'map', values, ...o };
}

export function headers(max: number, o: Options<HeadersShape> = {}): HeadersShape {
  return { kind: 'headers', max, ...o };
}

export function obj(
  fields: Readonly<Record<string, Shape>>,
  required: readonly string[] = [],
  o: Options<ObjectShape> = {},
): ObjectShape {
  return { kind: 'object', fields, required, ...o };
}

export function anyOf(options: readonly Shape[], o: Options<AnyOfShape> = {}): AnyOfShape {
  return { kind: 'anyOf', options, ...o };
}

export function json(o: Options<JsonShape> = {}): JsonShape {
  return { kind: 'json', ...o };
}

/** `shape` with a description for editors. */
export function doc<S extends Shape>(shape: S, description: string): S {
  return { ...shape, description };
}

/** A duration as `Fields.duration` reads it (`parseDuration`): the JSON Schema's pattern for one. */
export const durationPattern = /^\s*\d+(?:\.\d+)?(?:ms|s|m|h)\s*$/;

/**
 * The structural pass: reports to `f` every way `value` does not have `shape`, naming the field under
 * `path` (`''` for the plan itself, said `plan`), with `Fields`' own messages.
 */
export function checkShape(shape: Shape, value: unknown, path: string, f: Fields): void {
  const here = path === '' ? 'plan' : path;
  switch (shape.kind) {
    case 'string':
      f.string(value, here, {
        min: shape.min,
        max: shape.max,
        ...(shape.pattern ? { pattern: shape.pattern } : {}),
        ...(shape.patternText ? { patternText: shape.patternText } : {}),
      });
      return;
    case 'integer':
      if (shape.belowMin !== undefined && typeof value === 'number' && Number.isInteger(value) && value < shape.min) {
        f.problem(here, `must be at least ${shape.min}, got ${value}${shape.belowMin}`);
        return;
      }
      f.integer(value, here, shape.min, shape.max);
      return;
    case 'number':
      if (shape.min !== undefined && shape.max !== undefined) f.number(value, here, shape.min, shape.max);
      else if (typeof value !== 'number' || !Number.isFinite(value)) {
        f.problem(here, `expected a number, got ${describe(value)}`);
      }
      return;
    case 'boolean':
      f.boolean(value, here);
      return;
    case 'enum':
      if (!shape.values.includes(value as string | number | boolean | null)) {
        f.problem(here, `expected ${shape.text ?? `one of ${shape.values.join(', ')}`}, got ${echo(value)}`);
      }
      return;
    case 'duration':
      f.duration(value, here, shape.maxMs);
      return;
    case 'list': {
      const items = f.array(value, here, shape.max ?? Number.POSITIVE_INFINITY);
      if (!items) return;
      if (shape.min !== undefined && items.length < shape.min) {
        f.problem(here, shape.minText ?? `must have at least ${shape.min} entries`);
      }
      items.forEach((item, i) => {
        checkShape(shape.items, item, join(here, i), f);
      });
      return;
    }
    case 'map': {
      const record = f.object(value, here);
      if (!record) return;
      let entries = Object.entries(record);
      const max = shape.max ?? Number.POSITIVE_INFINITY;
      if (entries.length > max || entries.length < (shape.min ?? 0)) {
        f.problem(here, shape.countText ?? `must have ${shape.min ?? 0} to ${max} entries`);
        if (!shape.readFirst) return;
        entries = entries.slice(0, max);
      }
      for (const [key, v] of entries) {
        const at = join(path, key);
        if (shape.keys && !keyFits(shape.keys, key)) {
          f.problem(at, shape.keys.message);
          if (shape.keys.skipBadKeys) continue;
        }
        checkShape(shape.values, v, at, f);
      }
      return;
    }
    case 'headers':
      f.headers(value, here, shape.max);
      return;
    case 'object':
      checkFields(shape.fields, shape.required, value, path, f);
      return;
    case 'anyOf': {
      if (shape.options.some((o) => fits(o, value))) return;
      const listed = Array.isArray(value) ? shape.options.find((o) => o.kind === 'list') : undefined;
      const reporter = listed ?? (shape.report === undefined ? undefined : shape.options[shape.report]);
      if (reporter) checkShape(reporter, value, path, f);
      else f.problem(here, `expected ${shape.text ?? 'another value'}, got ${echo(value)}`);
      return;
    }
    case 'json':
      return;
    case 'tagged': {
      const record = f.object(value, here);
      if (!record) return;
      const tag = record[shape.tag];
      const variant = typeof tag === 'string' && Object.hasOwn(shape.variants, tag) ? shape.variants[tag] : undefined;
      if (!variant) {
        f.problem(join(here, shape.tag), shape.unknownTag(tag));
        return;
      }
      checkFields({ ...shape.common, ...variant.fields }, variant.required, record, path, f);
      return;
    }
  }
}

/** Whether `value` has `shape`, with nothing reported. */
export function fits(shape: Shape, value: unknown): boolean {
  const scratch = new Fields();
  checkShape(shape, value, 'x', scratch);
  return scratch.issues.length === 0;
}

function keyFits(keys: NonNullable<MapShape['keys']>, key: string): boolean {
  if (keys.pattern && !keys.pattern.test(key)) return false;
  return keys.names === undefined || keys.names.includes(key);
}

function checkFields(
  fields: Readonly<Record<string, Shape>>,
  required: readonly string[],
  value: unknown,
  path: string,
  f: Fields,
): void {
  const record = f.object(value, path === '' ? 'plan' : path, Object.keys(fields));
  if (!record) return;
  for (const [key, field] of Object.entries(fields)) {
    const v = Object.hasOwn(record, key) ? record[key] : undefined;
    if (v === undefined && !required.includes(key)) continue;
    checkShape(field, v, join(path, key), f);
  }
}
