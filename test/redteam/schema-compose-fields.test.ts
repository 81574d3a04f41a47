import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaPath } from '../../lib/plan/json-schema.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { root } from '../docs/docs.ts';
import { schemaErrors } from '../plan/json-schema-subset.ts';

// Red team (redteam3): the committed JSON Schema (schema/plan.schema.json, `greenlight schema`) and the
// validator must accept the same plans. `include` and `variables` are read by lib/plan/compose.ts with rules
// the schema does not state. FAILS at 68cb56d, in both directions:
// - variables: the validator takes numbers and booleans (`expectedVersion: 42`), the schema wants strings;
// - include: the validator takes names of up to 256 of [A-Za-z0-9_.-] (isRouteSegment), the schema stops at
//   128, and the schema takes any text ("a/b", "..", "has space") the validator refuses;
// - a variable holding "{{" is refused by the validator, accepted by the schema.

const committed = JSON.parse(readFileSync(join(root, schemaPath), 'utf8')) as Record<string, unknown>;
const shared = (name: string) => ({
  sets: new Map<string, unknown>([
    [name, { version: 1, checks: { extra: { type: 'http', url: 'https://example.com/x' } } }],
  ]),
  where: (n: string) => `/greenlight/plans/shared/${n}`,
});

function validator(plan: unknown, name?: string): boolean {
  try {
    parsePlan(plan, name === undefined ? {} : { shared: shared(name) });
    return true;
  } catch (error) {
    if (error instanceof PlanError) return false;
    throw error;
  }
}
const schema = (plan: unknown): boolean => schemaErrors(committed, plan).length === 0;

const base = {
  version: 1,
  hooks: { '*': ['h'] },
  checks: { h: { type: 'http', url: 'https://example.com/{{var.v}}' } },
};

describe('the JSON Schema and the validator agree on include and variables', () => {
  it('a number variable (as YAML writes `v: 42`) is accepted by both or by neither', () => {
    const plan = { ...base, variables: { v: 42 } };
    expect({ schema: schema(plan) }).toEqual({ schema: validator(plan) });
  });

  it('an include name of 200 characters is accepted by both or by neither', () => {
    const name = 'a'.repeat(200);
    const plan = { ...base, variables: { v: 'x' }, include: [name] };
    expect({ schema: schema(plan) }).toEqual({ schema: validator(plan, name) });
  });

  it('an include name with "/" or ".." is refused by both', () => {
    for (const name of ['a/b', '..', 'has space']) {
      const plan = { ...base, variables: { v: 'x' }, include: [name] };
      expect({ name, schema: schema(plan) }).toEqual({ name, schema: validator(plan, name) });
    }
  });

  it('a variable holding a placeholder ("{{") is refused by both', () => {
    const plan = { ...base, variables: { v: '{{testListenerUrl}}' } };
    expect({ schema: schema(plan) }).toEqual({ schema: validator(plan) });
  });
});
