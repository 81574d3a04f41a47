import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaCommand } from '../../cli/schema.ts';
import { checkShape as checkEntryShape, planShape } from '../../lib/plan/definitions.ts';
import { planJsonSchemaText, planZodSchema, schemaPath } from '../../lib/plan/json-schema.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { fits, type Shape } from '../../lib/plan/shape.ts';
import { parseYaml } from '../../lib/plan/yaml.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { entryPoint, esbuildOptions, functionNames } from '../../scripts/build.ts';
import { codeBlocks, planAround, planFrom, root } from '../docs/docs.ts';
import { schemaErrors } from './json-schema-subset.ts';

// The JSON Schema editors use and the validator's structural pass are made from one definition
// (lib/plan/definitions.ts). These tests hold the three readers of a plan to the same answers: the
// committed JSON Schema (read by a small draft-07 validator), zod parsing the same definitions, and
// parsePlan (what `greenlight validate` and the functions run).

const committed = JSON.parse(readFileSync(join(root, schemaPath), 'utf8')) as Record<string, unknown>;
const zod = planZodSchema().schema;

/** The validator's problems with `plan`, [] when it accepts it. */
function validatorIssues(plan: unknown): readonly string[] {
  try {
    parsePlan(plan);
    return [];
  } catch (error) {
    if (error instanceof PlanError) return error.issues;
    throw error;
  }
}

/** What each of the three says of `plan`: true when it accepts it. */
function verdicts(plan: unknown): { jsonSchema: boolean; zod: boolean; validator: boolean } {
  return {
    jsonSchema: schemaErrors(committed, plan).length === 0,
    zod: zod.safeParse(plan).success,
    validator: validatorIssues(plan).length === 0,
  };
}

const modeline = /^# yaml-language-server: \$schema=(\S+)\n/;

/** Every example plan of the repository and its docs, as text, by where it is. */
function examplePlans(): [string, string][] {
  const yaml = codeBlocks('yaml');
  const out: [string, string][] = [
    ['cli/rehearsal/plan.yaml', readFileSync(join(root, 'cli/rehearsal/plan.yaml'), 'utf8')],
  ];
  for (const b of yaml) {
    const at = `${b.file}:${b.line}`;
    if (/^(?:# yaml-language-server: \$schema=\S+\n)?version: 1\n/.test(b.body)) out.push([at, b.body]);
    else if (/^ {2}[A-Za-z0-9][\w.-]*:\n {4}type: /.test(b.body)) out.push([`${at} (a check)`, planAround(b.body)]);
    else if (/^(allow|secrets):\n/.test(b.body)) out.push([`${at} (top-level fields)`, planFrom(b.body)]);
  }
  for (const b of codeBlocks('json')) {
    for (const [, s = '""'] of b.body.matchAll(/"greenlightPlan": ("(?:[^"\\]|\\.)*")/g)) {
      out.push([`${b.file}:${b.line} (hookDetails.greenlightPlan)`, JSON.parse(s) as string]);
    }
  }
  return out;
}

async function read(text: string): Promise<unknown> {
  return /^\s*[{[]/.test(text) ? JSON.parse(text) : parseYaml(text, 'plan');
}

describe('the committed JSON Schema', () => {
  it(`equals what the definitions make (regenerate with: npx greenlight schema --write)`, () => {
    expect(readFileSync(join(root, schemaPath), 'utf8')).toBe(planJsonSchemaText());
  });

  it('is reported up to date by greenlight schema --check', async () => {
    expect(await schemaCommand(['--check'])).toBe(0);
  });

  it('says which rules only greenlight validate enforces', () => {
    expect(committed.description).toMatch(/Only `greenlight validate`/);
    for (const rule of ['durations', 'consecutiveSuccesses', 'schedule', 'RE2', 'placeholders', 'dryRun']) {
      expect(committed.description).toContain(rule);
    }
  });

  it('offers every check kind, policy field and hook name to editors', () => {
    const text = JSON.stringify(committed);
    for (const name of ['tls', 'allow', 'dryRun', 'count', 'interval', 'failureLimit', 'consecutiveErrorLimit']) {
      expect(text).toContain(`"${name}"`);
    }
    expect(text).toContain('"inconclusiveLimit"');
    expect(text).toContain('"POST_TEST_TRAFFIC_SHIFT"');
    expect(Object.keys(checkEntryShape.variants).length).toBe(10);
  });

  it('is not in any function bundle: the functions validate with the definitions, never loading zod', async () => {
    for (const name of await functionNames(join(root, 'functions'))) {
      const result = await build({
        ...esbuildOptions,
        entryPoints: [join(root, entryPoint(name))],
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.some((i) => i.includes('lib/plan/definitions.ts'))).toBe(true);
      expect(inputs.filter((i) => i.includes('node_modules/zod/') || i.includes('lib/plan/json-schema.ts'))).toEqual(
        [],
      );
    }
  }, 120_000);
});

describe('every example plan in the repository and its docs', () => {
  const plans = examplePlans();

  it('finds the examples, each whole plan naming the schema in its first line', () => {
    expect(plans.length).toBeGreaterThanOrEqual(20);
    const whole = plans.filter(([at]) => !at.includes('(')).map(([, text]) => text);
    expect(whole.length).toBeGreaterThanOrEqual(5);
    for (const text of whole) expect(text).toMatch(modeline);
    // The rehearsal plan names the committed file by its path from the plan.
    expect(modeline.exec(plans[0]?.[1] ?? '')?.[1]).toBe('../../schema/plan.schema.json');
  });

  it.each(plans)('%s is valid under the JSON Schema, zod and greenlight validate', async (_at, text) => {
    const plan = await read(text);
    expect(schemaErrors(committed, plan)).toEqual([]);
    expect(zod.safeParse(plan).error?.issues ?? []).toEqual([]);
    expect(validatorIssues(plan)).toEqual([]);
  });

  it('a JSON plan may name the schema with a top-level $schema, which greenlight accepts', () => {
    const plan = {
      $schema: '../schema/plan.schema.json',
      version: 1,
      hooks: { '*': ['web'] },
      checks: { web: { type: 'http', url: 'https://example.com/health' } },
    };
    expect(verdicts(plan)).toEqual({ jsonSchema: true, zod: true, validator: true });
  });
});

/** A small valid plan the documented mistakes are made in. */
const base = () => ({
  version: 1,
  hooks: { AfterAllowTestTraffic: ['green-health'] },
  checks: {
    'green-health': {
      type: 'http',
      url: '{{testListenerUrl}}/health',
      expect: { status: [200] } as Record<string, unknown>,
      count: 3,
      interval: '1s',
    } as Record<string, unknown>,
  } as Record<string, unknown>,
});

describe("the docs' documented mistakes", () => {
  // Each: where the docs say it is a plan error, their words, and the mistake made in a valid plan.
  const mistakes: [string, string, () => unknown, RegExp][] = [
    [
      'docs/plan.md',
      "A plan's top-level fields are `version` (always `1`), `description` (optional text), `include`,\n`variables`, `defaults`, `allow`, `secrets`, `hooks` and `checks`; any other is a plan error.",
      () => ({ ...base(), checkz: {} }),
      /^plan\.checkz: unknown field/,
    ],
    ['docs/plan.md', '(always `1`)', () => ({ ...base(), version: 2 }), /^version: expected 1, got 2$/],
    [
      'docs/plan.md',
      'Unknown hook and check names are plan errors, so a typo cannot silently fall through to `"*"`.',
      () => ({ ...base(), hooks: { AfterAllowTestTrafic: ['green-health'] } }),
      /^hooks\.AfterAllowTestTrafic: unknown hook or stage/,
    ],
    [
      'docs/plan.md',
      '`checks.green-health.expect.status[0]: expected an integer 100-599, ...`',
      () => {
        const p = base();
        (p.checks['green-health'] as Record<string, unknown>).expect = { status: [600] };
        return p;
      },
      /^checks\.green-health\.expect\.status\[0\]: expected an integer 100-599/,
    ],
    [
      'docs/checks.md',
      'there is no `rejectUnauthorized`, and an unknown field is a plan\n  error.',
      () => {
        const p = base();
        (p.checks['green-health'] as Record<string, unknown>).tls = { rejectUnauthorized: false };
        return p;
      },
      /^checks\.green-health\.tls\.rejectUnauthorized: unknown field/,
    ],
    [
      'docs/plan.md',
      '| `count` | `1` | measurements to take (at least 1);',
      () => {
        const p = base();
        (p.checks['green-health'] as Record<string, unknown>).count = 0;
        return p;
      },
      /^checks\.green-health\.count: must be at least 1, got 0/,
    ],
    [
      'docs/plan.md',
      '`checks` names each check (1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit;',
      () => ({ ...base(), checks: { 'green health': base().checks['green-health'] }, hooks: {} }),
      /^checks\.green health: check names use letters/,
    ],
    [
      'docs/plan.md',
      'Durations are written `500ms`, `5s`, `2m`, `1h`.',
      () => {
        const p = base();
        (p.checks['green-health'] as Record<string, unknown>).interval = 10;
        return p;
      },
      /^checks\.green-health\.interval: expected a duration such as 500ms/,
    ],
  ];

  it.each(mistakes)(
    '%s: "%s" is refused by the JSON Schema, zod and greenlight validate',
    (file, words, make, issue) => {
      expect(readFileSync(join(root, file), 'utf8')).toContain(words);
      const plan = make();
      expect(verdicts(plan)).toEqual({ jsonSchema: false, zod: false, validator: false });
      expect(validatorIssues(plan).some((i) => issue.test(i))).toBe(true);
    },
  );
});

/** A place in a plan a mutation can break: a closed object (add a field) or a plain value (change its type). */
interface Spot {
  readonly path: readonly (string | number)[];
  readonly what: 'closed' | 'value';
  readonly shape: Shape;
}

/** The spots of `value`, read with `shape`; values an `anyOf` chose between are left out (another option may take the new value). */
function spots(shape: Shape, value: unknown, path: readonly (string | number)[], under = false): Spot[] {
  if (value === undefined) return [];
  switch (shape.kind) {
    case 'object':
    case 'tagged': {
      const fields =
        shape.kind === 'object'
          ? shape.fields
          : { ...shape.common, ...(shape.variants[(value as Record<string, string>)[shape.tag] ?? '']?.fields ?? {}) };
      const record = value as Record<string, unknown>;
      return [
        { path, what: 'closed', shape },
        ...Object.entries(fields).flatMap(([k, s]) => spots(s, record[k], [...path, k])),
      ];
    }
    case 'map':
      return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => spots(shape.values, v, [...path, k]));
    case 'list':
      return (value as unknown[]).flatMap((v, i) => spots(shape.items, v, [...path, i]));
    case 'anyOf': {
      const option = shape.options.find((o) => fits(o, value));
      return option ? spots(option, value, path, true) : [];
    }
    case 'json':
    case 'headers':
      return [];
    default:
      return under ? [] : [{ path, what: 'value', shape }];
  }
}

/** Values of another JSON type than `shape` takes. */
function wrongTypes(shape: Shape): unknown[] {
  switch (shape.kind) {
    case 'integer':
      return ['12', true, null, [], {}, 1.5];
    case 'number':
      return ['12', true, null, [], {}];
    case 'boolean':
      return ['true', 1, null, []];
    default:
      return [12_345, true, null, [], {}];
  }
}

function mutate(plan: unknown, spot: Spot, replacement: unknown): unknown {
  const copy = structuredClone(plan) as Record<string | number, unknown>;
  if (spot.path.length === 0) {
    return spot.what === 'closed' ? { ...copy, zzUnknownField: replacement } : replacement;
  }
  let at: Record<string | number, unknown> = copy;
  for (const key of spot.path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = spot.path.at(-1) as string | number;
  if (spot.what === 'closed') (at[last] as Record<string, unknown>).zzUnknownField = replacement;
  else at[last] = replacement;
  return copy;
}

describe('random mutations of the example plans', () => {
  it('an unknown field or a value of the wrong type is refused by the JSON Schema, zod and greenlight validate (property, fixed seed)', async () => {
    const plans = await Promise.all(examplePlans().map(async ([, text]) => read(text)));
    const cases = plans.map((plan) => ({ plan, spots: spots(planShape, plan, []) }));
    expect(cases.every((c) => c.spots.length > 3)).toBe(true);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: cases.length - 1 }).chain((i) => {
          const c = cases[i] as (typeof cases)[number];
          return fc.tuple(fc.constant(c.plan), fc.constantFrom(...c.spots), fc.integer({ min: 0, max: 5 }));
        }),
        ([plan, spot, n]) => {
          const options = spot.what === 'closed' ? [1, 'x', true] : wrongTypes(spot.shape);
          const mutated = mutate(plan, spot, options[n % options.length]);
          expect(verdicts(mutated), `${spot.what} at ${spot.path.join('.')}`).toEqual({
            jsonSchema: false,
            zod: false,
            validator: false,
          });
        },
      ),
      { seed: 16, numRuns: 400 },
    );
  });
});
