import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { registerTargets } from '../../local/checks-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import {
  type CodeDeployFake,
  ecsAppSpec,
  ecsDeployment,
  lambdaDeployment,
  startCodeDeployFake,
} from '../../local/fakes/codedeploy.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type LambdaInvokeRecorder, startLambdaInvokeRecorder } from '../../local/fakes/lambda-invoke-recorder.ts';
import { startTargetHealthFake, type TargetHealthFake } from '../../local/fakes/target-health.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Issue 11, item 6: green and blue must not swap when traffic moves. At AfterAllowTraffic CodeDeploy
 * lists the replacement PRIMARY at 100% and the original ACTIVE at 0%, sometimes without `taskSetLabel`;
 * greenlight took PRIMARY for blue, so every check aimed at green validated blue and an unhealthy green
 * passed. Every CodeDeploy ECS hook goes through the real codedeploy-hook handler here, with and without
 * labels, against moto_server (ECS task sets, ELBv2) and the local CodeDeploy fake.
 */
type HookHandler = typeof import('../../functions/codedeploy-hook/index.ts')['handler'];
type WaitHandler = typeof import('../../functions/codedeploy-wait-gate/index.ts')['handler'];

const ecsHooks = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'];

/** Green's target health (by default `{{greenTargetGroup}}`) and a probe whose path names what greenlight took for green and blue. */
const plan = `
version: 1
hooks:
  "*": [green-targets, whoami]
  TerminationWait: [green-targets]
checks:
  green-targets:
    type: target-health
  whoami:
    type: http
    url: "{{testListenerUrl}}/green/{{greenTaskSet}}/{{greenTargetGroup}}/blue/{{blueTaskSet}}/{{blueTargetGroup}}"
`;

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let moto: Moto;
let codedeploy: CodeDeployFake;
let ecsFront: JsonFake;
let elb: TargetHealthFake;
let lambda: LambdaInvokeRecorder;
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let ecs: ECSClient;
let hook: HookHandler;
let waitGate: WaitHandler;
let seq = 0;

const tgName = (arn: string) => /:targetgroup\/([^/]+)\//.exec(arn)?.[1] as string;

interface World {
  readonly deploymentId: string;
  readonly cluster: string;
  readonly service: string;
  readonly blueTaskSet: string;
  readonly greenTaskSet: string;
  readonly blueTaskDefinition: string;
  readonly greenTaskDefinition: string;
  /** Epoch seconds between the two task sets' creation: the deployment's create time. */
  readonly between: number;
}

/**
 * A CODE_DEPLOY service in moto_server with the original task set (a previous deployment's, task
 * definition :1) and the replacement (this deployment's, :2), created in that order.
 */
async function world(o: { externalIds?: boolean } = {}): Promise<World> {
  seq++;
  const deploymentId = `d-GID${String(seq).padStart(6, '0')}`;
  const cluster = 'gid';
  const service = `svc-${seq}`;
  const family = `fam-${seq}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const register = async () =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128, essential: true }],
        }),
      )
    ).taskDefinition?.taskDefinitionArn as string;
  const blueTaskDefinition = await register();
  const greenTaskDefinition = await register();
  await ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: service,
      taskDefinition: blueTaskDefinition,
      desiredCount: 2,
      deploymentController: { type: 'CODE_DEPLOY' },
    }),
  );
  const taskSet = async (taskDefinition: string, externalId: string) =>
    (
      await ecs.send(
        new CreateTaskSetCommand({
          cluster,
          service,
          taskDefinition,
          ...(o.externalIds === false ? {} : { externalId }),
        }),
      )
    ).taskSet?.id as string;
  const blueTaskSet = await taskSet(blueTaskDefinition, 'd-PREVIOUS0');
  await new Promise((r) => setTimeout(r, 30));
  const between = Date.now() / 1000;
  await new Promise((r) => setTimeout(r, 30));
  const greenTaskSet = await taskSet(greenTaskDefinition, deploymentId);
  return {
    deploymentId,
    cluster,
    service,
    blueTaskSet,
    greenTaskSet,
    blueTaskDefinition,
    greenTaskDefinition,
    between,
  };
}

function addEcs(w: World, o: Partial<Parameters<typeof ecsDeployment>[0]> = {}): void {
  codedeploy.addDeployment(
    ecsDeployment({
      deploymentId: w.deploymentId,
      cluster: w.cluster,
      service: w.service,
      testListenerArn: lb.testListenerArn,
      prodListenerArn: lb.prodListenerArn,
      taskSets: {
        blue: { id: w.blueTaskSet, targetGroup: tgName(lb.blueTargetGroupArn) },
        green: { id: w.greenTaskSet, targetGroup: tgName(lb.greenTargetGroupArn) },
      },
      ...o,
    }),
  );
}

const event = (id: string) => ({ DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` });
const reasons = (out: { reasons: readonly string[] }) => out.reasons.join('\n');

beforeAll(async () => {
  [moto, codedeploy, lambda, green, blue] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startLambdaInvokeRecorder(),
    startHttpTarget(),
    startHttpTarget(),
  ]);
  [ecsFront, elb] = await Promise.all([
    startJsonFake({ operations: {}, fallback: moto.url }),
    startTargetHealthFake(moto.url),
  ]);
  lb = await createLoadBalancer(moto.url, { name: 'gl-gid', prodPort: blue.port, testPort: green.port });
  await registerTargets(moto.url, lb.blueTargetGroupArn, [{ id: '10.0.1.1', port: 8080 }]);
  await registerTargets(moto.url, lb.greenTargetGroupArn, [{ id: '10.0.2.1', port: 8080 }]);
  ecs = new ECSClient({ endpoint: moto.url, region, credentials, maxAttempts: 1 });
  process.env.AWS_REGION = region;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  process.env.AWS_ENDPOINT_URL_ECS = ecsFront.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = elb.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler: hook } = await import('../../functions/codedeploy-hook/index.ts'));
  ({ handler: waitGate } = await import('../../functions/codedeploy-wait-gate/index.ts'));
}, 60_000);

afterAll(async () => {
  ecs?.destroy();
  await Promise.all([
    moto?.stop(),
    codedeploy?.close(),
    ecsFront?.close(),
    elb?.close(),
    lambda?.close(),
    green?.close(),
    blue?.close(),
  ]);
});

/** Blue healthy; green as the test says. */
function greenTargets(state: 'healthy' | 'unhealthy'): void {
  elb.setTargets(lb.blueTargetGroupArn, [{ id: '10.0.1.1', port: 8080, state: 'healthy' }]);
  elb.setTargets(lb.greenTargetGroupArn, [
    { id: '10.0.2.1', port: 8080, state, ...(state === 'unhealthy' ? { reason: 'Target.FailedHealthChecks' } : {}) },
  ]);
}

/**
 * The probe is only a vehicle for the ids greenlight resolved, at every hook: it names the test
 * listener's origin literally, since `{{testListenerUrl}}` is refused where that listener still reaches
 * blue (BeforeInstall, AfterInstall).
 */
const vehicle = (text: string): string => text.replaceAll('{{testListenerUrl}}', `http://${lb.dnsName}:${green.port}`);

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = vehicle(plan);
  delete process.env.GREENLIGHT_HOOK;
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  green.respond((_req, res) => res.end('ok'));
  blue.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
  greenTargets('healthy');
  ecsFront.clearFaults();
});

describe.each([
  ['labelled', false],
  ['without taskSetLabel', true],
])('codedeploy-hook (ECS), task sets %s', (_how, unlabelled) => {
  describe.each(ecsHooks.filter((h) => h !== 'BeforeInstall'))('at %s', (name) => {
    it('checks green, whatever its status and traffic weight, and passes when green is healthy', async () => {
      const w = await world();
      addEcs(w, { hook: name, unlabelled });

      const out = await hook(event(w.deploymentId), lambdaContext());

      expect(reasons(out)).not.toMatch(/cannot tell/);
      expect(out).toMatchObject({ status: 'Succeeded', hook: name });
      expect(green.hits).toEqual([
        `/green/${w.greenTaskSet}/${tgName(lb.greenTargetGroupArn)}/blue/${w.blueTaskSet}/${tgName(lb.blueTargetGroupArn)}`,
      ]);
    });

    it('fails when green is unhealthy and blue is healthy', async () => {
      greenTargets('unhealthy');
      const w = await world();
      addEcs(w, { hook: name, unlabelled });

      const out = await hook(event(w.deploymentId), lambdaContext());

      expect(out.status).toBe('Failed');
      expect(reasons(out)).toContain(`target group ${tgName(lb.greenTargetGroupArn)}: 0 of 1 targets healthy`);
      expect(codedeploy.hookStatuses.get(`exec-${w.deploymentId}`)).toBe('Failed');
    });
  });

  it('at BeforeInstall, before the replacement exists, fails closed on a green check, naming why', async () => {
    const w = await world();
    addEcs(w, { hook: 'BeforeInstall', unlabelled });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      unlabelled ? /\{\{greenTaskSet\}\} at BeforeInstall: .*does not exist yet/ : /no task set is labelled Green/,
    );
    expect(green.hits).toHaveLength(0);
  });

  it('at BeforeInstall, still knows blue, the one task set there is', async () => {
    process.env.GREENLIGHT_PLAN = vehicle(`
version: 1
hooks:
  "*": [blue-probe]
checks:
  blue-probe:
    type: http
    url: "{{testListenerUrl}}/blue/{{blueTaskSet}}/{{blueTargetGroup}}"
`);
    const w = await world();
    addEcs(w, { hook: 'BeforeInstall', unlabelled });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits).toEqual([`/blue/${w.blueTaskSet}/${tgName(lb.blueTargetGroupArn)}`]);
  });
});

describe('codedeploy-hook (ECS), green told by facts that never change, or not at all', () => {
  it('the issue: AfterAllowTraffic, no labels, replacement PRIMARY at 100%, unhealthy green: Failed', async () => {
    greenTargets('unhealthy');
    const w = await world();
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true });
    const listed = codedeploy.deployment(w.deploymentId)?.targets[`${w.cluster}:${w.service}`] as {
      ecsTarget: { taskSetsInfo: { identifer: string; status: string; trafficWeight: number }[] };
    };
    expect(listed.ecsTarget.taskSetsInfo.map((s) => [s.identifer, s.status, s.trafficWeight])).toEqual([
      [w.greenTaskSet, 'PRIMARY', 100],
      [w.blueTaskSet, 'ACTIVE', 0],
    ]);

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toContain(tgName(lb.greenTargetGroupArn));
    expect(ecsFront.callsOf('DescribeTaskSets').at(-1)?.input).toMatchObject({
      cluster: w.cluster,
      service: w.service,
      taskSets: [w.greenTaskSet, w.blueTaskSet],
    });
  });

  it('asks ECS nothing when every task set is labelled', async () => {
    const w = await world();
    const before = ecsFront.callsOf('DescribeTaskSets').length;
    addEcs(w, { hook: 'AfterAllowTraffic' });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(ecsFront.callsOf('DescribeTaskSets')).toHaveLength(before);
  });

  it("tells green by the AppSpec's task definition when ECS reports no externalId", async () => {
    const w = await world({ externalIds: false });
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true, appSpecContent: ecsAppSpec(w.greenTaskDefinition) });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits[0]).toContain(`/green/${w.greenTaskSet}/`);
  });

  it("tells green by its creation time against the deployment's when nothing else is known", async () => {
    const w = await world({ externalIds: false });
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true, createTime: w.between });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits[0]).toContain(`/green/${w.greenTaskSet}/`);
  });

  it('fails closed, naming why, when no fact singles out the task set this deployment created', async () => {
    const w = await world({ externalIds: false });
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      new RegExp(
        `\\{\\{greenTaskSet\\}\\} at AfterAllowTraffic: no fact singles out the task set deployment ${w.deploymentId} created`,
      ),
    );
    expect(green.hits).toHaveLength(0);
  });

  it('fails closed when the facts disagree', async () => {
    const w = await world();
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true, appSpecContent: ecsAppSpec(w.blueTaskDefinition) });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      /cannot tell green from blue: the facts disagree \(externalId says .*AppSpec TaskDefinition says/,
    );
  });

  it('fails closed when ECS cannot be asked, naming the call', async () => {
    const w = await world();
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true });
    ecsFront.failNext('DescribeTaskSets', { type: 'AccessDeniedException', message: 'not authorized' }, 3);

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      /cannot tell green from blue: DescribeTaskSets on gid\/svc-\d+ failed: AccessDeniedException/,
    );
    expect(green.hits).toHaveLength(0);
  });

  it('fails closed when labels are missing and the deployment target names task sets ECS does not know', async () => {
    const w = await world();
    addEcs(w, {
      hook: 'AfterAllowTraffic',
      unlabelled: true,
      taskSets: { blue: { id: w.blueTaskSet }, green: { id: 'ecs-svc/0000000000000000000' } },
    });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(/ECS does not know task set ecs-svc\/0000000000000000000/);
  });

  it('does not ask ECS when the plan names no task set or target group', async () => {
    process.env.GREENLIGHT_PLAN = `
version: 1
hooks:
  "*": [probe]
checks:
  probe:
    type: http
    url: "{{testListenerUrl}}/health"
`;
    const w = await world();
    const before = ecsFront.callsOf('DescribeTaskSets').length;
    addEcs(w, { hook: 'AfterAllowTraffic', unlabelled: true });

    const out = await hook(event(w.deploymentId), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(ecsFront.callsOf('DescribeTaskSets')).toHaveLength(before);
  });
});

describe('codedeploy-wait-gate (same resolver): the termination wait, after traffic has moved', () => {
  const stateChange = (deploymentId: string) => ({
    version: '0',
    id: `evt-${deploymentId}`,
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    source: 'aws.codedeploy',
    account: '123456789012',
    time: new Date().toISOString(),
    region,
    resources: [],
    detail: {
      region,
      deploymentId,
      instanceGroupId: 'ig',
      deploymentGroup: 'DgpECS-gid',
      state: 'START',
      application: 'AppECS-gid',
    },
  });

  it.each([
    ['labelled', false],
    ['without taskSetLabel', true],
  ])('stops with rollback when green is unhealthy (task sets %s)', async (_how, unlabelled) => {
    greenTargets('unhealthy');
    const w = await world();
    addEcs(w, { unlabelled, readyWaitMinutes: 60, terminationWaitMinutes: 60 });
    codedeploy.beginTerminationWait(w.deploymentId);

    const out = await waitGate(stateChange(w.deploymentId), lambdaContext(10_000, 'greenlight-codedeploy-wait-gate'));

    expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'fail', result: 'stopping' });
    expect(codedeploy.callsOf('StopDeployment').filter((c) => c.input.deploymentId === w.deploymentId)).toHaveLength(1);
  });
});

describe('codedeploy-hook (Lambda): green is the AppSpec target version, never the alias', () => {
  const lambdaPlan = `
version: 1
allow: { addresses: [loopback] }
hooks:
  "*": [versions]
checks:
  versions:
    type: http
    url: "GREEN/versions/{{functionName}}/{{alias}}/green/{{targetVersion}}/blue/{{currentVersion}}"
`;

  function addLambda(o: Partial<Parameters<typeof lambdaDeployment>[0]> = {}): string {
    seq++;
    const deploymentId = `d-GIL${String(seq).padStart(6, '0')}`;
    codedeploy.addDeployment(
      lambdaDeployment({
        deploymentId,
        functionName: 'orders',
        alias: 'live',
        currentVersion: '7',
        targetVersion: '8',
        ...o,
      }),
    );
    return deploymentId;
  }

  beforeEach(() => {
    process.env.GREENLIGHT_PLAN = lambdaPlan.replace('GREEN', green.url);
  });

  it.each(['BeforeAllowTraffic', 'AfterAllowTraffic'] as const)(
    'at %s: green is version 8 and blue version 7, even once the alias points to 8',
    async (name) => {
      const id = addLambda({ hook: name });

      const out = await hook(event(id), lambdaContext());

      expect(out).toMatchObject({ status: 'Succeeded', hook: name });
      expect(green.hits).toEqual(['/versions/orders/live/green/8/blue/7']);
    },
  );

  it('without AppSpec content, after traffic moved: green from the deployment target, blue unknown, said so', async () => {
    const id = addLambda({ hook: 'AfterAllowTraffic', appSpecContent: null });

    const out = await hook(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      /\{\{currentVersion\}\} at AfterAllowTraffic: .*alias already points to the target version/,
    );
    expect(green.hits).toHaveLength(0);
  });

  it('fails closed when the AppSpec and the deployment target disagree on the target version', async () => {
    const id = addLambda({
      hook: 'BeforeAllowTraffic',
      appSpecContent:
        'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: orders\n        Alias: live\n        CurrentVersion: 7\n        TargetVersion: 9\n',
    });

    const out = await hook(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(reasons(out)).toMatch(
      /\{\{targetVersion\}\} at BeforeAllowTraffic: the AppSpec says TargetVersion 9, the deployment target 8/,
    );
  });
});
