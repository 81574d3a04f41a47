import { describe, expect, it } from 'vitest';
import { codeDeployRoute, ecsRoute, parseRoute, routeKeys } from '../../lib/plan/route.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { fillPlaceholders, imageTag } from '../../lib/spec/placeholders.ts';

function issuesOf(work: () => unknown): readonly string[] {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues;
  }
  throw new Error('expected a PlanError');
}

const shared = (sets: Record<string, unknown>) => ({
  shared: { sets: new Map(Object.entries(sets)), where: (n: string) => `/greenlight/plans/shared/${n}` },
});

const webStandard = {
  version: 1,
  checks: {
    'version-matches': {
      type: 'http',
      url: '{{testListenerUrl}}/version',
      expect: { bodyContains: '{{var.expectedVersion}}' },
    },
  },
};

describe('plan routes', () => {
  it('tries codedeploy/<app>/<group> first, then the ECS service or the Lambda function it deploys', () => {
    const ecs = codeDeployRoute(
      { applicationName: 'AppECS-web', deploymentGroupName: 'DgpECS-web' },
      { type: 'ECSTarget', targetId: 'prod:web' },
    );
    const lambda = codeDeployRoute(
      { applicationName: 'sam-app', deploymentGroupName: 'fn-group' },
      { type: 'LambdaTarget', lambda: { functionName: 'arn:aws:lambda:us-east-1:123456789012:function:orders:live' } },
    );

    expect(routeKeys(ecs).keys).toEqual(['codedeploy/AppECS-web/DgpECS-web', 'ecs/prod/web']);
    expect(routeKeys(lambda).keys).toEqual(['codedeploy/sam-app/fn-group', 'lambda/orders']);
    expect(routeKeys(ecsRoute('arn:aws:ecs:us-east-1:123456789012:service/prod/api')).keys).toEqual(['ecs/prod/api']);
  });

  it('refuses names SSM cannot hold, never escaping one into another service: "/", spaces, "." and ".."', () => {
    const { keys, refused } = routeKeys({
      codedeploy: { application: 'team/app', deploymentGroup: 'grp' },
      ecs: { cluster: '..', service: 'web' },
      lambda: { functionName: 'my fn' },
    });

    expect(keys).toEqual([]);
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatch(/CodeDeploy application "team\/app" has characters an SSM parameter name cannot hold/);
  });

  it('parses the routes greenlight validate --route takes, and nothing else', () => {
    expect(parseRoute('codedeploy/App/Group')).toEqual({
      codedeploy: { application: 'App', deploymentGroup: 'Group' },
    });
    expect(parseRoute('lambda/fn')).toEqual({ lambda: { functionName: 'fn' } });
    expect(parseRoute('ecs/c')).toBeUndefined();
    expect(parseRoute('ecs/c/s/x')).toBeUndefined();
  });
});

describe('variables and shared checks', () => {
  it('fills {{var.name}} from the plan variables, in its own and its included checks', () => {
    const plan = parsePlan(
      {
        version: 1,
        include: ['web-standard'],
        variables: { expectedVersion: '1.4.2', path: 'health' },
        hooks: { AfterAllowTestTraffic: ['version-matches', 'own'] },
        checks: { own: { type: 'http', url: '{{testListenerUrl}}/{{ var.path }}' } },
      },
      shared({ 'web-standard': webStandard }),
    );

    expect(JSON.stringify(plan.checks['version-matches']?.spec)).toContain('"1.4.2"');
    expect(plan.checks.own?.spec).toMatchObject({ url: '{{testListenerUrl}}/health' });
  });

  it('refuses an unknown variable at validate time, naming the field and the variables the plan has', () => {
    const issues = issuesOf(() =>
      parsePlan(
        {
          version: 1,
          include: ['web-standard'],
          variables: { expected: 'x' },
          hooks: { AfterAllowTestTraffic: ['version-matches'] },
        },
        shared({ 'web-standard': webStandard }),
      ),
    );

    expect(issues).toEqual([
      "checks.version-matches.expect.bodyContains: unknown variable {{var.expectedVersion}} (the plan's variables: expected)",
    ]);
  });

  it('refuses a missing shared set, a check defined twice, and include without a library', () => {
    const plan = {
      version: 1,
      include: ['web-standard', 'nope'],
      variables: { expectedVersion: '1' },
      hooks: { AfterAllowTestTraffic: ['version-matches'] },
      checks: { 'version-matches': { type: 'http', url: 'https://example.com/' } },
    };

    expect(issuesOf(() => parsePlan(plan, shared({ 'web-standard': webStandard })))).toEqual([
      'checks.version-matches: defined by the plan and by shared check set web-standard: give each check one definition',
      'include[1]: no shared check set "nope" (looked for /greenlight/plans/shared/nope)',
    ]);
    expect(issuesOf(() => parsePlan(plan))[0]).toMatch(
      /^include\[0\]: shared check sets are read from the plan library/,
    );
  });

  it('refuses a variable that holds placeholders: its text is never read again', () => {
    const issues = issuesOf(() =>
      parsePlan({ version: 1, variables: { v: '{{secret:db}}' }, hooks: { BeforeInstall: [] }, checks: {} }),
    );

    expect(issues).toEqual(['variables.v: a variable holds plain text, not placeholders ("{{")']);
  });
});

describe('green task definition placeholders', () => {
  it('fills {{greenImage.<container>}} and {{greenImageTag.<container>}} from the green containers', () => {
    const context = {
      greenContainerImages: { web: 'registry:5000/team/web:2.0.1@sha256:abc', envoy: 'envoyproxy/envoy' },
    };

    const filled = fillPlaceholders({ a: '{{greenImageTag.web}}', b: '{{greenImage.envoy}}' }, context, 'x');

    expect(filled).toEqual({ a: '2.0.1', b: 'envoyproxy/envoy' });
    expect(() => fillPlaceholders('{{greenImageTag.envoy}}', context, 'x')).toThrow(/has no value/);
  });

  it('tells a tag from a registry port and a digest', () => {
    expect(imageTag('registry:5000/web')).toBeUndefined();
    expect(imageTag('web@sha256:abc')).toBeUndefined();
    expect(imageTag('public.ecr.aws/x/web:v1')).toBe('v1');
  });

  it('accepts the per-container names in a plan, and refuses an unknown placeholder still', () => {
    const checks = (url: string) => ({
      version: 1,
      hooks: { BeforeInstall: [] },
      checks: { c: { type: 'http', url } },
    });

    expect(() => parsePlan(checks('https://example.com/{{greenImageTag.web}}'))).not.toThrow();
    expect(issuesOf(() => parsePlan(checks('https://example.com/{{greenImages}}')))[0]).toMatch(/unknown placeholder/);
  });
});

describe('variables cannot assemble a placeholder (red team)', () => {
  it('refuses two values that, side by side, spell {{testListenerUrl}}', async () => {
    const { parsePlan } = await import('../../lib/plan/schema.ts');
    expect(() =>
      parsePlan({
        version: 1,
        variables: { a: '{', b: '{testListenerUrl}}' },
        checks: { c: { type: 'http', url: 'https://{{var.a}}{{var.b}}/health' } },
        hooks: { AfterAllowTraffic: ['c'] },
      }),
    ).toThrow(/checks\.c\.url: its variables, once filled in, make a placeholder/);
  });
});

describe('one mistake never hides another (newcomer pass)', () => {
  it("lists an unknown variable together with the plan's other problems", async () => {
    const { parsePlan } = await import('../../lib/plan/schema.ts');
    let issues: readonly string[] = [];
    try {
      parsePlan({
        version: 1,
        checks: {
          c: { type: 'http', url: 'https://example.com/{{var.nope}}', expect: { status: 700 }, retries: 3 },
        },
        hooks: { AfterAllowTraffc: ['c'] },
      });
    } catch (error) {
      issues = (error as { issues: readonly string[] }).issues;
    }
    expect(issues.some((i) => /unknown variable \{\{var\.nope\}\}/.test(i))).toBe(true);
    expect(issues.some((i) => /retries/.test(i))).toBe(true);
    expect(issues.some((i) => /AfterAllowTraffc/.test(i))).toBe(true);
    expect(issues.filter((i) => /var\.nope/.test(i))).toHaveLength(1);
  });
});
