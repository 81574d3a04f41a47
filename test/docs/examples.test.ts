import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../lib/plan/schema.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { codeBlocks, planAround, planFrom, root } from './docs.ts';

// A newcomer copies the docs' examples: each must be a plan the functions accept, as written. Whole
// plans are validated as they are; a check written as it stands under `checks:` is validated inside a
// plan that runs it, with the secrets it names declared.

const yaml = codeBlocks('yaml');
// A whole plan, under the line that names its JSON Schema for editors (docs/plan.md#editor-support).
const plans = yaml.filter((b) => /^(?:# yaml-language-server: \$schema=\S+\n)?version: 1\n/.test(b.body));
const checks = yaml.filter((b) => /^ {2}[A-Za-z0-9][\w.-]*:\n {4}type: /.test(b.body));
// The top of a plan shown alone (an `allow` or `secrets` block, with or without checks).
const blocks = yaml.filter((b) => /^(allow|secrets):\n/.test(b.body));

/** The plan's problems, or [] when it is valid. */
async function problems(text: string, source: string): Promise<readonly string[]> {
  try {
    await parsePlanText(text, source);
    return [];
  } catch (error) {
    if (error instanceof PlanError) return error.issues;
    throw error;
  }
}

describe('the plans in the docs', () => {
  it('finds the example plans and checks', () => {
    expect(plans.length).toBeGreaterThanOrEqual(3);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // One example per check kind at least, plus the judge and the alternatives.
    expect(checks.length).toBeGreaterThanOrEqual(11);
    const kinds = new Set(checks.flatMap((b) => [...b.body.matchAll(/^ {4}type: ([\w-]+)/gm)].map(([, k]) => k)));
    expect([...kinds].sort()).toEqual(
      [
        'cloudwatch-alarms',
        'cloudwatch-metric',
        'compare',
        'datadog',
        'ecs-service',
        'ecs-tasks',
        'http',
        'lambda-invoke',
        'prometheus',
        'target-health',
      ].sort(),
    );
  });

  it.each(plans.map((b) => [`${b.file}:${b.line}`, b.body]))('accepts the plan at %s', async (at, text) => {
    expect(await problems(text, at)).toEqual([]);
  });

  it.each(checks.map((b) => [`${b.file}:${b.line}`, b.body]))('accepts the check at %s', async (at, text) => {
    expect(await problems(planAround(text), at)).toEqual([]);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b.body]))('accepts the plan block at %s', async (at, text) => {
    expect(await problems(planFrom(text), at)).toEqual([]);
  });

  it('accepts the rehearsal plan that npm start runs', async () => {
    const text = readFileSync(join(root, 'cli/rehearsal/plan.yaml'), 'utf8');
    expect(await problems(text, 'cli/rehearsal/plan.yaml')).toEqual([]);
  });
});

describe('the JSON in the docs', () => {
  const json = codeBlocks('json');

  it.each(json.map((b) => [`${b.file}:${b.line}`, b.body]))('parses the block at %s', (_at, text) => {
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('accepts every plan a JSON example carries in hookDetails.greenlightPlan', async () => {
    const carried = json.flatMap((b) =>
      [...b.body.matchAll(/"greenlightPlan": ("(?:[^"\\]|\\.)*")/g)].map(([, s = '""']) => ({
        at: `${b.file}:${b.line}`,
        plan: JSON.parse(s) as string,
      })),
    );

    expect(carried.length).toBeGreaterThan(0);
    for (const { at, plan } of carried) expect(await problems(plan, at)).toEqual([]);
  });
});
