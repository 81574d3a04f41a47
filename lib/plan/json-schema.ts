/**
 * The plan's JSON Schema (draft-07, what editors' YAML and JSON support reads best), made from the
 * plan's definitions (lib/plan/definitions.ts) through zod: each shape becomes a zod/mini schema, and
 * zod writes the JSON Schema. Imported by `greenlight schema` and the tests only: the functions validate
 * plans with the definitions themselves and never load zod.
 */
import * as z from 'zod/mini';
import { fieldName } from '../spec/fields.ts';
import { planShape } from './definitions.ts';
import { durationPattern, type ObjectShape, type Shape } from './shape.ts';

/** Where the schema is committed, from the repository root; plans name it in their first line. */
export const schemaPath = 'schema/plan.schema.json';

/** What the schema says of itself: what it checks, and what only `greenlight validate` does. */
export const schemaDescription = [
  'A greenlight plan: which checks decide each deployment hook or stage, and how (docs/plan.md, docs/checks.md).',
  'This schema checks the structure: field names, types, ranges, patterns and lists.',
  'Only `greenlight validate` (and the functions, which validate the same way) also check:',
  "durations within their field's limit (initialDelay and interval at most 1h, timeout 15m, ...) and timeout more than 0;",
  "consecutiveSuccesses at most count; a hook's schedule within its trigger's limit (docs/plan.md, limits per trigger);",
  'that every check a hook lists exists, once, and that a hook is not mapped under both its names (PreTraffic, BeforeAllowTraffic);',
  "that a hook's checks are not all dryRun, and that {{testListenerUrl}} is not probed where it still reaches blue;",
  'placeholders ({{name}} known, {{secret:name}} declared under secrets); bodyMatches in RE2 syntax;',
  'expect.json paths and {min, max} ranges; status ranges within 100-599; allow.hosts and allow.origins;',
  'tls.ca as PEM certificates and tls.serverName as a DNS name; SSM parameter names;',
  'fields that go together or exclude each other (alarms or alarmPrefix, taskSet or serviceRevision, site or url,',
  'one of bearerToken, basicAuth and sigv4, step needs window, expression with several metrics, period within window);',
  'body and payload sizes, and the response bodies a hook may hold in memory at once.',
].join(' ');

/** JSON Schema keywords zod has no word for, added to the schema of the zod node they belong to. */
type Extra = Record<string, unknown>;

/** zod/mini schemas for a shape, with the JSON Schema keywords zod cannot say kept beside them. */
interface Converted {
  readonly schema: z.ZodMiniType;
  readonly extras: WeakMap<object, Extra>;
}

/** The plan's definitions as one zod/mini schema (also used by the tests, as a second validator). */
export function planZodSchema(): Converted {
  const extras = new WeakMap<object, Extra>();
  return { schema: toZod(planShape, extras), extras };
}

/** The plan's JSON Schema, as committed in schema/plan.schema.json. */
export function planJsonSchema(): Record<string, unknown> {
  const { schema, extras } = planZodSchema();
  const out = z.toJSONSchema(schema, {
    target: 'draft-07',
    unrepresentable: 'throw',
    override: (ctx) => {
      const extra = extras.get(ctx.zodSchema);
      if (extra) Object.assign(ctx.jsonSchema, extra);
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = out;
  return {
    $schema,
    $id: 'https://greenlight.invalid/schema/plan.schema.json',
    title: 'greenlight plan',
    ...rest,
    description: schemaDescription,
  };
}

/**
 * The committed file's text: the schema, two-space indented, a list of plain values on one line when it
 * fits in 120 columns (as the repository's formatter, Biome, writes JSON), with a final newline.
 */
export function planJsonSchemaText(): string {
  return `${formatJson(planJsonSchema(), '', 0)}\n`;
}

function formatJson(value: unknown, indent: string, column: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const line = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      // The line ends with the comma that may follow it.
      if (column + line.length + 1 <= 120) return line;
    }
    return `[\n${value.map((v) => `${inner}${formatJson(v, inner, inner.length)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => {
    const key = `${JSON.stringify(k)}: `;
    return `${inner}${key}${formatJson(v, inner, inner.length + key.length)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function described<T extends z.ZodMiniType>(schema: T, shape: Shape, extras: WeakMap<object, Extra>, extra?: Extra): T {
  const keywords: Extra = { ...extra, ...(shape.description ? { description: shape.description } : {}) };
  if (Object.keys(keywords).length > 0) extras.set(schema, keywords);
  return schema;
}

function toZod(shape: Shape, extras: WeakMap<object, Extra>): z.ZodMiniType {
  switch (shape.kind) {
    case 'string': {
      const bounded = [z.minLength(shape.min), z.maxLength(shape.max)] as const;
      const schema = shape.pattern
        ? z.string().check(...bounded, z.regex(shape.pattern))
        : z.string().check(...bounded);
      return described(schema, shape, extras);
    }
    case 'integer':
      return described(z.int().check(z.gte(shape.min), z.lte(shape.max)), shape, extras);
    case 'number':
      return described(
        shape.min !== undefined && shape.max !== undefined
          ? z.number().check(z.gte(shape.min), z.lte(shape.max))
          : z.number(),
        shape,
        extras,
      );
    case 'boolean':
      return described(z.boolean(), shape, extras);
    case 'enum': {
      const literals = shape.values.map((v) => z.literal(v));
      const schema = literals.length === 1 ? (literals[0] as z.ZodMiniType) : z.union(literals);
      return described(schema, shape, extras);
    }
    case 'duration':
      return described(
        z.string().check(z.regex(durationPattern)),
        { ...shape, description: `${shape.description ?? 'A duration.'} Written 500ms, 5s, 2m or 1h.` },
        extras,
      );
    case 'list': {
      const checks = [];
      if (shape.min !== undefined) checks.push(z.minLength(shape.min));
      if (shape.max !== undefined) checks.push(z.maxLength(shape.max));
      const schema = z.array(toZod(shape.items, extras));
      return described(checks.length ? schema.check(...checks) : schema, shape, extras);
    }
    case 'map': {
      const value = toZod(shape.values, extras);
      const names = shape.keys?.names;
      const counts = {
        ...(shape.min === undefined ? {} : { minProperties: shape.min }),
        ...(shape.max === undefined ? {} : { maxProperties: shape.max }),
      };
      // Named keys (hooks) become optional properties of a closed object, so that editors offer them.
      if (names) {
        return described(
          z.strictObject(Object.fromEntries(names.map((n) => [n, z.optional(value)]))),
          shape,
          extras,
          counts,
        );
      }
      const key = shape.keys?.pattern ? z.string().check(z.regex(shape.keys.pattern)) : z.string();
      return described(z.record(key, value), shape, extras, counts);
    }
    case 'headers':
      return described(
        z.record(z.string().check(z.regex(fieldName)), z.string().check(z.maxLength(8192))),
        shape,
        extras,
        { maxProperties: shape.max },
      );
    case 'object':
      return described(z.strictObject(fieldsOf(shape, {}, extras)), shape, extras);
    case 'anyOf':
      return described(z.union(shape.options.map((o) => toZod(o, extras))), shape, extras);
    case 'json':
      return described(z.unknown(), shape, extras);
    case 'tagged': {
      const variants = Object.entries(shape.variants).map(([tag, variant]) =>
        described(
          z.strictObject({ [shape.tag]: z.literal(tag), ...fieldsOf(variant, shape.common, extras, shape.tag) }),
          variant,
          extras,
        ),
      );
      return described(
        z.discriminatedUnion(shape.tag, variants as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]]),
        shape,
        extras,
      );
    }
  }
}

function fieldsOf(
  shape: ObjectShape,
  common: Readonly<Record<string, Shape>>,
  extras: WeakMap<object, Extra>,
  skip?: string,
): Record<string, z.ZodMiniType> {
  const out: Record<string, z.ZodMiniType> = {};
  for (const [key, field] of Object.entries({ ...common, ...shape.fields })) {
    if (key === skip) continue;
    const schema = toZod(field, extras);
    out[key] = shape.required.includes(key) ? schema : z.optional(schema);
  }
  return out;
}
