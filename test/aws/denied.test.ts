import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeDeployAdapter, deploymentGroupsDenied } from '../../lib/aws/codedeploy.ts';
import { ecsAdapter, ecsClustersDenied } from '../../lib/aws/ecs.ts';
import { FakeAwsError, type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';

/**
 * An access denial names the stack parameter that scopes the call (issue 14): the ECS functions'
 * reads and ContinueServiceDeployment are allowed on the clusters of EcsClusterNames only.
 * The real SDK against a loopback ECS stand-in that denies.
 */

let ecs: JsonFake;
let client: ECSClient;

beforeAll(async () => {
  ecs = await startJsonFake({
    operations: {
      DescribeServiceDeployments: () => {
        throw new FakeAwsError(
          'AccessDeniedException',
          'User is not authorized to perform: ecs:DescribeServiceDeployments on resource: arn:aws:ecs:us-east-1:111122223333:service-deployment/prod/api/x',
        );
      },
      DescribeServices: () => {
        throw new FakeAwsError('ClusterNotFoundException', 'Cluster not found.');
      },
    },
  });
  client = new ECSClient({
    endpoint: ecs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await ecs?.close();
});

describe('the ECS adapter', () => {
  it('completes an AccessDeniedException with the EcsClusterNames parameter, keeping its class', async () => {
    const error = await ecsAdapter(() => client)
      .describeServiceDeployment('arn:aws:ecs:us-east-1:111122223333:service-deployment/prod/api/x')
      .catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AccessDeniedException');
    expect((error as Error).message).toContain('not authorized to perform: ecs:DescribeServiceDeployments');
    expect((error as Error).message).toContain(ecsClustersDenied);
    expect(ecsClustersDenied).toContain("stack's EcsClusterNames parameter");
  });

  it('leaves any other error as it is', async () => {
    const error = await ecsAdapter(() => client)
      .serviceLoadBalancers('prod', 'api')
      .catch((e: unknown) => e as Error);

    expect((error as Error).name).toBe('ClusterNotFoundException');
    expect((error as Error).message).not.toContain('EcsClusterNames');
  });
});

describe('the CodeDeploy adapter', () => {
  it('completes an AccessDeniedException with the deployment-group parameters, keeping its class', async () => {
    const codedeploy = await startJsonFake({
      operations: {
        GetDeployment: () => {
          throw new FakeAwsError(
            'AccessDeniedException',
            'User is not authorized to perform: codedeploy:GetDeployment on resource: deploymentgroup:shop/api',
          );
        },
      },
    });
    const cd = new CodeDeployClient({
      endpoint: codedeploy.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const error = await codeDeployAdapter(() => cd)
        .getDeployment('d-ABCDEF123')
        .catch((e: unknown) => e as Error);

      expect((error as Error).name).toBe('AccessDeniedException');
      expect((error as Error).message).toContain(deploymentGroupsDenied);
      expect(deploymentGroupsDenied).toContain("stack's CodeDeployApplications (hook) or WaitGateDeploymentGroups");
    } finally {
      cd.destroy();
      await codedeploy.close();
    }
  });
});
