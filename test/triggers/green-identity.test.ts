import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CodeDeployDeployment, CodeDeployTarget, TaskSetInfo } from '../../lib/aws/codedeploy.ts';
import type { TaskSetOrigin } from '../../lib/aws/task-sets.ts';
import { readAppSpec, sameTaskDefinition } from '../../lib/triggers/codedeploy/appspec.ts';
import { GreenIdentityError, taskSetRoles } from '../../lib/triggers/codedeploy/green-identity.ts';

const signal = new AbortController().signal;
const td = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/web:${n}`;

describe('reading the AppSpec a deployment was created with', () => {
  it('reads the ECS task definition from JSON and from YAML', async () => {
    const json = JSON.stringify({
      version: 0.0,
      Resources: [{ TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: td(2) } } }],
    });
    const yaml = `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "${td(2)}"\n        LoadBalancerInfo:\n          ContainerName: "web"\n          ContainerPort: 80\n`;

    expect(await readAppSpec(json)).toEqual({ ecsTaskDefinition: td(2) });
    expect(await readAppSpec(yaml)).toEqual({ ecsTaskDefinition: td(2) });
  });

  it('reads the Lambda versions, unquoted YAML numbers included', async () => {
    const yaml =
      'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: orders\n        Alias: live\n        CurrentVersion: 7\n        TargetVersion: 8\n';

    expect(await readAppSpec(yaml)).toEqual({
      lambda: { name: 'orders', alias: 'live', currentVersion: '7', targetVersion: '8' },
    });
  });

  it.each([
    ['nothing', undefined],
    ['an empty text', ''],
    ['text that is neither JSON nor YAML', '{ not: [closed'],
    ['no Resources', 'version: 0.0\n'],
    ['an oversized text', `x: "${'a'.repeat(300_000)}"`],
  ])('knows nothing from %s', async (_what, content) => {
    expect(await readAppSpec(content)).toBeUndefined();
  });

  it('takes no task definition from an AppSpec with two ECS services', async () => {
    const two = JSON.stringify({
      Resources: [
        { A: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: td(1) } } },
        { B: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: td(2) } } },
      ],
    });

    expect((await readAppSpec(two))?.ecsTaskDefinition).toBeUndefined();
  });

  it('compares task definitions by family and revision, an ARN or not; a bare family names none', () => {
    expect(sameTaskDefinition('web:2', td(2))).toBe(true);
    expect(sameTaskDefinition(td(2), td(2).replace(':aws:', ':aws-cn:'))).toBe(true);
    expect(sameTaskDefinition('web:1', td(2))).toBe(false);
    expect(sameTaskDefinition('web', td(2))).toBeUndefined();
  });
});

describe('telling green from blue', () => {
  const deployment: CodeDeployDeployment = {
    deploymentId: 'd-ABCDEFGHI',
    testListenerArns: [],
    prodListenerArns: [],
  };
  const target = (taskSets: TaskSetInfo[]): CodeDeployTarget => ({
    targetId: 'c:s',
    type: 'ECSTarget',
    lifecycleEvents: [],
    taskSets,
  });
  const port = (origins: TaskSetOrigin[]) => ({ taskSetOrigins: async () => origins });

  it('property: without labels, green is the task set ECS says this deployment created, whatever status, weight and order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 0, max: 100 }),
        fc.constantFrom('PRIMARY', 'ACTIVE', 'DRAINING'),
        fc.constantFrom('PRIMARY', 'ACTIVE', 'DRAINING'),
        async (greenFirst, greenWeight, greenStatus, blueStatus) => {
          const g: TaskSetInfo = {
            id: 'ecs-svc/2',
            status: greenStatus,
            trafficWeight: greenWeight,
            targetGroup: 'tg-b',
          };
          const b: TaskSetInfo = {
            id: 'ecs-svc/1',
            status: blueStatus,
            trafficWeight: 100 - greenWeight,
            targetGroup: 'tg-a',
          };
          const roles = await taskSetRoles(
            {
              taskSets: port([
                { id: 'ecs-svc/1', externalId: 'd-PREVIOUS0' },
                { id: 'ecs-svc/2', externalId: deployment.deploymentId },
              ]),
            },
            { deployment, target: target(greenFirst ? [g, b] : [b, g]), cluster: 'c', service: 's' },
            signal,
          );
          expect(roles.green?.id).toBe('ecs-svc/2');
          expect(roles.blue?.id).toBe('ecs-svc/1');
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });

  it('uses the labels when every task set has one, asking ECS nothing', async () => {
    let asked = false;
    const roles = await taskSetRoles(
      {
        taskSets: {
          taskSetOrigins: async () => {
            asked = true;
            return [];
          },
        },
      },
      {
        deployment,
        target: target([
          { id: 'ecs-svc/2', label: 'Green', status: 'PRIMARY', trafficWeight: 100 },
          { id: 'ecs-svc/1', label: 'Blue', status: 'ACTIVE', trafficWeight: 0 },
        ]),
        cluster: 'c',
        service: 's',
      },
      signal,
    );

    expect([roles.green?.id, roles.blue?.id, asked]).toEqual(['ecs-svc/2', 'ecs-svc/1', false]);
  });

  it('fails closed when two task sets carry the Green label', async () => {
    const roles = await taskSetRoles(
      {},
      {
        deployment,
        target: target([
          { id: 'ecs-svc/2', label: 'Green' },
          { id: 'ecs-svc/1', label: 'Green' },
        ]),
        cluster: 'c',
        service: 's',
      },
      signal,
    );

    expect(roles.green).toBeUndefined();
    expect(roles.greenUnknown).toBe('2 task sets are labelled Green');
  });

  it('refuses to guess without an ECS reader when labels are missing', async () => {
    await expect(
      taskSetRoles(
        {},
        { deployment, target: target([{ id: 'ecs-svc/1' }, { id: 'ecs-svc/2' }]), cluster: 'c', service: 's' },
        signal,
      ),
    ).rejects.toThrow(GreenIdentityError);
  });
});
