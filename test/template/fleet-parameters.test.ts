import { beforeAll, describe, expect, it } from 'vitest';
import { readTemplate, resolver, type Template } from '../../local/template.ts';

/**
 * One stack for ECS and SAM Lambda deployments (issue 14): parameters that cannot be right for every
 * platform have no default that silently fails one of them; lists are lists; a stack CloudFormation
 * would deploy broken is refused with a message naming the parameter to set. The template's Rules
 * are evaluated here as CloudFormation evaluates them before it creates anything.
 */

type Rule = { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription?: string }[] };

let template: Template & { Rules?: Record<string, Rule> };
const pseudo = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111122223333' };

beforeAll(async () => {
  template = await readTemplate();
});

/** The descriptions of the assertions that fail with these parameters (CloudFormation refuses the stack). */
function refusals(parameters: Record<string, string>): string[] {
  const { resolve } = resolver(template, parameters, pseudo);
  return Object.values(template.Rules ?? {}).flatMap((rule) => {
    if (rule.RuleCondition !== undefined && !resolve(rule.RuleCondition)) return [];
    return rule.Assertions.filter((a) => !resolve(a.Assert)).map((a) => a.AssertDescription ?? '(no description)');
  });
}

describe('the plan parameters', () => {
  it('have no default plan: an http probe of the test listener would fail every SAM Lambda deployment', () => {
    expect(template.Parameters?.Plan?.Default).toBe('');
    expect(template.Parameters?.PlanParameterName?.Default).toBe('');
  });

  it('refuse a stack without a plan, naming Plan and PlanParameterName', () => {
    const why = refusals({});

    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(/^Set the Plan parameter \(an inline plan\) or PlanParameterName/);
  });

  it('refuse a stack with both, and accept either one', () => {
    const plan = '{"version":1,"hooks":{"*":["smoke"]},"checks":{"smoke":{"type":"lambda-invoke"}}}';

    expect(refusals({ Plan: plan })).toEqual([]);
    expect(refusals({ PlanParameterName: 'greenlight/plan' })).toEqual([]);
    expect(refusals({ Plan: plan, PlanParameterName: 'greenlight/plan' })).toEqual([
      'Set Plan or PlanParameterName, not both (a function reads exactly one plan)',
    ]);
  });
});

describe('EnableSourceMaps', () => {
  it('is refused when true: the builds ship no source maps to enable', () => {
    const why = refusals({ PlanParameterName: 'greenlight/plan', EnableSourceMaps: 'true' });

    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(/^EnableSourceMaps=true is not supported: sam build and npm run build ship no source maps/);
  });
});

describe('EcsClusterNames', () => {
  const pauseWildcards = (clusters: string): string[] => {
    const { resolve } = resolver(template, { EcsClusterNames: clusters }, pseudo);
    const events = resolve(template.Resources.EcsPauseGateFunction?.Properties?.Events) as Record<
      string,
      { Properties: { Pattern: string } }
    >;
    const pattern = JSON.parse(events.PauseHookAwaitingAction?.Properties.Pattern ?? '{}');
    return pattern.detail.clusterArn.map((m: { wildcard: string }) => m.wildcard);
  };

  it('names no cluster by default: the pause gate takes no PAUSE hook of a cluster nobody chose', () => {
    expect(template.Parameters?.EcsClusterNames).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    // `cluster/` with nothing after it: no cluster ARN matches.
    expect(pauseWildcards('')).toEqual(['arn:*:ecs:*:*:cluster/']);
  });

  it('takes a list of clusters, each its own match', () => {
    expect(pauseWildcards('prod,stage')).toEqual(['arn:*:ecs:*:*:cluster/prod', 'arn:*:ecs:*:*:cluster/stage']);
  });
});

describe('SmokeTestFunctions', () => {
  const invokable = (names: string): string[] => {
    const { resolve } = resolver(template, { SmokeTestFunctions: names }, pseudo);
    const policy = resolve(template.Resources.ChecksReadPolicy?.Properties?.PolicyDocument) as {
      Statement: { Sid?: string; Resource?: string[] }[];
    };
    const resources = policy.Statement.find((s) => s.Sid === 'SmokeTestInvoke')?.Resource ?? [];
    // Padding entries (`function:`, `function::*`) name no function.
    return [...new Set(resources)].filter((arn) => !/:function::?\*?$/.test(arn)).sort();
  };
  const arn = (name: string) => `arn:aws:lambda:eu-west-1:111122223333:function:${name}`;

  it('is a list, empty by default, and then grants no invocation at all', () => {
    expect(template.Parameters?.SmokeTestFunctions).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    expect(invokable('')).toEqual([]);
  });

  it('grants each listed function and its versions and aliases, in this account and region', () => {
    expect(invokable('orders-api,payments-*')).toEqual(
      [arn('orders-api'), arn('orders-api:*'), arn('payments-*'), arn('payments-*:*')].sort(),
    );
  });

  it('grants up to 8 names', () => {
    const names = Array.from({ length: 8 }, (_, i) => `fn-${i}`);

    expect(invokable(names.join(','))).toEqual(names.flatMap((n) => [arn(n), arn(`${n}:*`)]).sort());
  });

  it("says in its description that a lambda-invoke check's denial names it", () => {
    const description =
      (template.Parameters?.SmokeTestFunctions as { Description?: string } | undefined)?.Description ?? '';

    expect(description).toContain('up to 8 function names');
    expect(description).toContain('denial names this parameter');
  });
});
