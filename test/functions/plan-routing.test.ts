import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearMissingParameters } from '../../lib/aws/ssm.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { lambdaDeployment } from '../../local/fakes/codedeploy.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * One greenlight configuration (GREENLIGHT_PLAN_PREFIX, no fallback plan) gates three deployments, each
 * with its own plan found from the deployment itself: a CodeDeploy ECS deployment
 * (codedeploy/<app>/<group>), an ECS native deployment paused by a PAUSE hook (ecs/<cluster>/<service>)
 * and a SAM Lambda deployment (lambda/<function>). Every function runs as Lambda runs it, with the real
 * SDK against moto_server's SSM and the project's CodeDeploy and ECS fakes.
 */

const prefix = '/greenlight/plans/';
let h: Harness;
let ssm: SSMClient;
let greenTaskDefinitionArn: string;

async function put(key: string, value: string): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: `${prefix}${key}`, Value: value, Type: 'String', Overwrite: true }));
}

/** A plan whose one check probes `path` on the test listener, at `hook`. */
const planProbing = (hook: string, path: string, extra = '') => `
version: 1
hooks:
  ${hook}: [probe]
checks:
  probe:
    type: http
    url: "{{testListenerUrl}}${path}"${extra}
`;

beforeAll(async () => {
  h = await startHarness('gl-routing', { GREENLIGHT_PLAN_PREFIX: prefix, GREENLIGHT_REPORT_RESERVE: '1s' });
  delete process.env.GREENLIGHT_PLAN;
  ssm = new SSMClient({ endpoint: h.moto.url, region: 'us-east-1' });
  const ecs = new ECSClient({ endpoint: h.moto.url, region: 'us-east-1' });
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      containerDefinitions: [
        { name: 'web', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2', memory: 512 },
      ],
    }),
  );
  ecs.destroy();
  greenTaskDefinitionArn = registered.taskDefinition?.taskDefinitionArn as string;
  // Plan A: the CodeDeploy ECS service, by application and group; its version check takes the green image's tag.
  await put(
    'codedeploy/AppECS-web/DgpECS-web',
    planProbing('AfterAllowTestTraffic', '/plan-a?version={{greenImageTag}}&td={{greenTaskDefinition}}'),
  );
  // Plan B: the ECS native service, by cluster and service, for its PAUSE hook.
  await put('ecs/prod/api', planProbing('POST_TEST_TRAFFIC_SHIFT', '/plan-b'));
  // Plan C: the SAM function, by name; it probes green through the pinned load balancer name.
  await put(
    'lambda/orders-fn',
    `
version: 1
hooks:
  PreTraffic: [probe]
checks:
  probe:
    type: http
    url: "http://${h.lb.dnsName}:${h.green.port}/plan-c?v={{targetVersion}}"
`,
  );
}, 90_000);

afterAll(async () => {
  ssm?.destroy();
  await h?.close();
});

beforeEach(() => {
  clearPlanCache();
  clearMissingParameters();
  h.green.hits.length = 0;
  h.green.respond((_req, res) => res.end('ok'));
});

const appSpec = (taskDefinition: string) =>
  JSON.stringify({
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: taskDefinition,
            LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          },
        },
      },
    ],
  });

describe('one greenlight, three deployments, three plans', () => {
  it('gives the CodeDeploy ECS, the ECS native (PAUSE) and the SAM Lambda deployment each its own plan', async () => {
    // Arrange
    const codedeployId = h.codeDeployDeployment({
      applicationName: 'AppECS-web',
      deploymentGroupName: 'DgpECS-web',
      appSpecContent: appSpec(greenTaskDefinitionArn),
    });
    const native = h.nativeDeployment({ cluster: 'prod', service: 'api' });
    const { hookId, event: pauseEvent } = h.ecs.addPauseHook(native.serviceDeploymentArn, {
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
    });
    h.codedeploy.addDeployment(
      lambdaDeployment({ deploymentId: 'd-LAMBDA001', hook: 'BeforeAllowTraffic', functionName: 'orders-fn' }),
    );

    // Act
    const a = await h.handlers.codedeployHook(
      { DeploymentId: codedeployId, LifecycleEventHookExecutionId: `exec-${codedeployId}` },
      lambdaContext(),
    );
    const b = await h.handlers.ecsPauseGate(pauseEvent, lambdaContext(30_000, 'greenlight-ecs-pause-gate'));
    const c = await h.handlers.codedeployHook(
      { DeploymentId: 'd-LAMBDA001', LifecycleEventHookExecutionId: 'exec-lambda' },
      lambdaContext(),
    );

    // Assert
    expect(a).toMatchObject({ status: 'Succeeded' });
    expect(b).toMatchObject({ outcome: 'decided', action: 'CONTINUE', hookId });
    expect(c).toMatchObject({ status: 'Succeeded' });
    expect(h.green.hits).toEqual(['/plan-a?version=1.4.2&td=web:1', '/plan-b', '/plan-c?v=2']);
  });

  it('leaves a PAUSE hook of a service without a plan alone: a no-op, no ContinueServiceDeployment', async () => {
    // Arrange
    const native = h.nativeDeployment({ cluster: 'prod', service: 'someone-elses' });
    const { hookId, event } = h.ecs.addPauseHook(native.serviceDeploymentArn, {
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
    });

    // Act
    const out = await h.handlers.ecsPauseGate(event, lambdaContext(30_000, 'greenlight-ecs-pause-gate'));

    // Assert
    expect(out).toMatchObject({ outcome: 'no-op', hookId });
    expect(out.reasons.join()).toContain(`looked for ${prefix}ecs/prod/someone-elses`);
    expect(h.ecs.callsOf('ContinueServiceDeployment').filter((c) => c.input.hookId === hookId)).toEqual([]);
    expect(h.green.hits).toEqual([]);
  });

  it('fails closed a CodeDeploy hook wired to greenlight whose deployment has no plan, naming the parameters looked for', async () => {
    const id = h.codeDeployDeployment({ applicationName: 'AppECS-new', deploymentGroupName: 'DgpECS-new' });

    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(),
    );

    expect(out.status).toBe('Failed');
    expect(out.reasons.join()).toContain(
      `looked for ${prefix}codedeploy/AppECS-new/DgpECS-new, ${prefix}ecs/my-cluster/my-service`,
    );
    expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('fails closed an ECS lifecycle hook whose service has no plan, naming the parameter looked for', async () => {
    const event = lifecycleHookEvent(
      h.nativeDeployment({ cluster: 'prod', service: 'unplanned' }),
      'POST_TEST_TRAFFIC_SHIFT',
    );

    const out = await h.handlers.ecsLifecycleHook(event, lambdaContext(30_000, 'greenlight-ecs-lifecycle-hook'));

    expect(out.hookStatus).toBe('FAILED');
    expect(JSON.stringify(out.hookDetails)).toContain(`looked for ${prefix}ecs/prod/unplanned`);
  });
});
