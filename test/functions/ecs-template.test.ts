import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePlanText } from '../../lib/plan/schema.ts';
import { entryPoint, readBuildTargets } from '../../local/build-targets.ts';
import { readTemplate, type Template } from '../../local/template.ts';
import { blockAfter } from '../docs/docs.ts';

let template: Template;

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const props = (id: string): Record<string, unknown> => {
  const resource = template.Resources[id];
  if (!resource?.Properties) throw new Error(`${id} is not in template.yaml`);
  return resource.Properties;
};

function statements(id: string): Statement[] {
  const policies = props(id).Policies as unknown[];
  return policies.flatMap((p) => ((p as { Statement?: Statement[] }).Statement ?? []) as Statement[]);
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** What CloudFormation makes of `!Split [',', !Sub [text, {Clusters: !Join [sep, names]}]]` for these cluster names. */
function expandClusters(value: unknown, clusters: string[]): string[] {
  const split = (
    value as { 'Fn::Split': [string, { 'Fn::Sub': [string, { Clusters: { 'Fn::Join': [string, unknown] } }] }] }
  )['Fn::Split'];
  const [text, vars] = split[1]['Fn::Sub'];
  return text.replace(/\$\{Clusters\}/, clusters.join(vars.Clusters['Fn::Join'][0])).split(split[0]);
}

/** EventBridge's wildcard match: `*` stands for any run of characters. */
const wildcard = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

beforeAll(async () => {
  template = await readTemplate();
});

describe('template.yaml wiring of the ECS native functions', () => {
  it('builds both functions from entry points that exist', async () => {
    const builds = await readBuildTargets();
    for (const id of ['EcsLifecycleHookFunction', 'EcsPauseGateFunction']) {
      expect(template.Resources[id]?.Metadata?.BuildMethod, id).toBe('makefile');
      const folder = builds.get(id);
      expect(folder, `${id}: build-${id} in the Makefile`).toBeDefined();
      expect(existsSync(entryPoint(folder as string))).toBe(true);
    }
  });

  it('triggers the gate on HOOK_AWAITING_ACTION of the configured clusters, matching the AWS sample event', () => {
    const events = props('EcsPauseGateFunction').Events as Record<
      string,
      { Type: string; Properties: { Pattern: unknown } }
    >;
    const event = events.PauseHookAwaitingAction as { Type: string; Properties: { Pattern: unknown } };
    expect(event.Type).toBe('EventBridgeRule');
    const [text, vars] = (event.Properties.Pattern as { 'Fn::Sub': [string, { Clusters: { 'Fn::Join': [string] } }] })[
      'Fn::Sub'
    ];
    const pattern = JSON.parse(
      text.replace(/\$\{Clusters\}/, ['other', 'my-cluster'].join(vars.Clusters['Fn::Join'][0])),
    );
    const sample = JSON.parse(
      readFileSync(new URL('../../events/ecs-pause-gate/hook-awaiting-action.json', import.meta.url), 'utf8'),
    );

    expect(pattern.source).toEqual([sample.source]);
    expect(pattern['detail-type']).toEqual([sample['detail-type']]);
    expect(pattern.detail.eventName).toEqual(['HOOK_AWAITING_ACTION']);
    expect(pattern.detail).not.toHaveProperty('serviceArn');
    const clusters = pattern.detail.clusterArn as { wildcard: string }[];
    expect(clusters).toHaveLength(2);
    expect(clusters.some((c) => wildcard(c.wildcard, sample.detail.clusterArn))).toBe(true);
    expect(clusters.some((c) => wildcard(c.wildcard, 'arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster-2'))).toBe(
      false,
    );
  });

  it('lets the gate continue only service deployments of the configured clusters, in its own region', () => {
    const continuing = statements('EcsPauseGateFunction').filter((s) =>
      actions(s).includes('ecs:ContinueServiceDeployment'),
    );

    expect(continuing).toHaveLength(1);
    const [statement] = continuing as [Statement];
    expect(expandClusters(statement.Resource, ['a', 'b'])).toEqual([
      'arn:*:ecs:*:*:service-deployment/a/*',
      'arn:*:ecs:*:*:service-deployment/b/*',
    ]);
    expect(statement.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } });
  });

  it('gives neither function an ECS action on every resource', () => {
    for (const id of ['EcsLifecycleHookFunction', 'EcsPauseGateFunction']) {
      // DescribeTaskDefinition ({{greenImage}}) has no resource-level permissions and reads no cluster.
      const scoped = (s: Parameters<typeof actions>[0]) =>
        actions(s).some((a) => a.startsWith('ecs:') && a !== 'ecs:DescribeTaskDefinition');
      for (const s of statements(id).filter(scoped)) {
        expect(s.Resource, `${id} ${s.Sid}`).not.toBe('*');
        expect(s.Condition, `${id} ${s.Sid}`).toBeDefined();
      }
      expect(statements(id).flatMap(actions)).not.toContain(
        'ecs:ContinueServiceDeployment'.replace('Continue', 'Stop'),
      );
    }
    expect(statements('EcsLifecycleHookFunction').flatMap(actions)).not.toContain('ecs:ContinueServiceDeployment');
  });

  it('lets the gate invoke no function of its own (a long analysis starts on the durable function, test/template/iam.test.ts), and allows no recursion', () => {
    const gate = props('EcsPauseGateFunction');
    const invoke = statements('EcsPauseGateFunction').filter((s) => actions(s).includes('lambda:InvokeFunction'));

    expect(gate.RecursiveLoop).toBeUndefined();
    expect(invoke).toEqual([]);
    expect((gate.Environment as { Variables: Record<string, unknown> }).Variables.GREENLIGHT_DURABLE_FUNCTION).toEqual({
      Ref: 'DurableAnalysisFunction.Alias',
    });
    expect((gate.FunctionName as { 'Fn::Sub': string })['Fn::Sub']).toMatch(/^\$\{AWS::StackName\}-ecs-pause-gate$/);
  });

  it('gives ECS a role that may invoke the hook function and nothing else', () => {
    const role = props('EcsLifecycleHookInvokeRole') as {
      AssumeRolePolicyDocument: { Statement: { Principal: { Service: string }; Action: string }[] };
      Policies: { PolicyDocument: { Statement: Statement[] } }[];
    };
    const trust = role.AssumeRolePolicyDocument.Statement;
    const granted = role.Policies.flatMap((p) => p.PolicyDocument.Statement);

    expect(trust).toEqual([
      expect.objectContaining({ Principal: { Service: 'ecs.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(granted.flatMap(actions)).toEqual(['lambda:InvokeFunction']);
    expect(granted[0]?.Resource).toEqual([
      { 'Fn::GetAtt': ['EcsLifecycleHookFunction', 'Arn'] },
      { 'Fn::Sub': expect.stringMatching(/^\$\{EcsLifecycleHookFunction\.Arn\}:\*$/) },
    ]);
  });

  it("documents service hooks whose PAUSE timeout action is ROLLBACK, in the AWS sample's shape, with a valid plan", async () => {
    const block = blockAfter('docs/ecs.md', '## Configure the service', 'json');
    const example = JSON.parse(block) as { deploymentConfiguration: { lifecycleHooks: Record<string, unknown>[] } };
    const sample = JSON.parse(
      readFileSync(new URL('../fixtures/aws-samples/ecs-native-pause-hook-config.json', import.meta.url), 'utf8'),
    ) as { deploymentConfiguration: { lifecycleHooks: Record<string, unknown>[] } };
    const hooks = example.deploymentConfiguration.lifecycleHooks;
    const pause = hooks.filter((h) => h.targetType === 'PAUSE');
    const lambda = hooks.find((h) => h.targetType === 'AWS_LAMBDA') as { hookDetails: { greenlightPlan: string } };

    expect(pause.length).toBeGreaterThan(0);
    for (const hook of pause) {
      expect(Object.keys(hook).sort()).toEqual(
        Object.keys(sample.deploymentConfiguration.lifecycleHooks[0] ?? {}).sort(),
      );
      expect(hook.timeoutConfiguration).toMatchObject({ action: 'ROLLBACK' });
      expect(hook.lifecycleStages).not.toContain('TEST_TRAFFIC_SHIFT');
      expect(hook.lifecycleStages).not.toContain('PRODUCTION_TRAFFIC_SHIFT');
    }
    await expect(parsePlanText(lambda.hookDetails.greenlightPlan, 'docs/ecs.md')).resolves.toBeDefined();
  });
});
