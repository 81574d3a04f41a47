/**
 * A small JSON Schema (draft-07) validator for the keywords schema/plan.schema.json uses, for the tests
 * only (no JSON Schema library is installed). It refuses a keyword it does not know, so a schema that
 * starts using one fails the tests instead of being half checked.
 */

type Schema = Record<string, unknown> | boolean;

const annotations = new Set(['$schema', '$id', 'title', 'description', 'default', 'examples']);
const known = new Set([
  'type',
  'properties',
  'additionalProperties',
  'required',
  'enum',
  'const',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'items',
  'minItems',
  'maxItems',
  'anyOf',
  'oneOf',
  'propertyNames',
  'minProperties',
  'maxProperties',
]);

/** The ways `value` breaks `schema`, each with its JSON path; [] when it conforms. */
export function schemaErrors(schema: Schema, value: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: nothing is allowed here`];
  for (const key of Object.keys(schema)) {
    if (!known.has(key) && !annotations.has(key))
      throw new Error(`${path}: keyword ${key} is not supported by this test validator`);
  }
  const s = schema as Record<string, unknown>;
  const errors: string[] = [];
  if (s.type !== undefined && !typeFits(s.type as string, value)) return [`${path}: not of type ${String(s.type)}`];
  if (s.const !== undefined && value !== s.const) errors.push(`${path}: not ${JSON.stringify(s.const)}`);
  if (s.enum !== undefined && !(s.enum as unknown[]).includes(value)) errors.push(`${path}: not in enum`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${path}: below minimum`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${path}: above maximum`);
  }
  if (typeof value === 'string') {
    // JSON Schema counts characters (code points).
    const length = [...value].length;
    if (typeof s.minLength === 'number' && length < s.minLength) errors.push(`${path}: too short`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) errors.push(`${path}: too long`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${path}: no match`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${path}: too few items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errors.push(`${path}: too many items`);
    if (s.items !== undefined) {
      for (const [i, v] of value.entries()) errors.push(...schemaErrors(s.items as Schema, v, `${path}[${i}]`));
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties)
      errors.push(`${path}: too few properties`);
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties)
      errors.push(`${path}: too many properties`);
    for (const name of (s.required ?? []) as string[]) {
      if (!Object.hasOwn(record, name)) errors.push(`${path}.${name}: required`);
    }
    for (const key of keys) {
      const at = `${path}.${key}`;
      if (s.propertyNames !== undefined) errors.push(...schemaErrors(s.propertyNames as Schema, key, `${at} (name)`));
      if (Object.hasOwn(properties, key)) errors.push(...schemaErrors(properties[key] as Schema, record[key], at));
      else if (s.additionalProperties !== undefined) {
        errors.push(...schemaErrors(s.additionalProperties as Schema, record[key], at));
      }
    }
  }
  if (s.anyOf !== undefined) {
    const fits = (s.anyOf as Schema[]).filter((o) => schemaErrors(o, value, path).length === 0).length;
    if (fits === 0) errors.push(`${path}: matches none of anyOf`);
  }
  if (s.oneOf !== undefined) {
    const fits = (s.oneOf as Schema[]).filter((o) => schemaErrors(o, value, path).length === 0).length;
    if (fits !== 1) errors.push(`${path}: matches ${fits} of oneOf, not exactly 1`);
  }
  return errors;
}

function typeFits(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`type ${type} is not supported by this test validator`);
  }
}
