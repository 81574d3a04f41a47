import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { createEcsTaskSet, type GreenTaskSet, viaMoto } from '../../local/checks-setup.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
let ecs: JsonFake;
let deps: CheckDeps;
let green: GreenTaskSet;
/** moto_server leaves task set counts out; a test that needs them sets the task set ECS would describe. */
let taskSet: Record<string, unknown> | undefined;
/** ECS native service deployments (moto_server has no ListServiceDeployments / DescribeServiceDeployments). */
let deployments: Record<string, unknown>[];

const revisionArn = 'arn:aws:ecs:us-east-1:123456789012:service-revision/native/web/9313423515462893900';
const deploymentArn = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/native/web/EZe5RNVLH6PPzHXINuP28';

beforeAll(async () => {
  moto = await startMoto();
  const describeTaskSets = viaMoto(moto.url, 'AmazonEC2ContainerServiceV20141113.DescribeTaskSets', {
    service: 'ecs',
    jsonVersion: '1.1',
  });
  ecs = await startJsonFake({
    operations: {
      DescribeTaskSets: (input) => (taskSet ? { taskSets: [taskSet], failures: [] } : describeTaskSets(input)),
      ListServiceDeployments: (input) => ({
        serviceDeployments: deployments
          .filter((d) => String(d.serviceArn).endsWith(`/${String(input.cluster)}/${String(input.service)}`))
          .map((d) => ({
            serviceDeploymentArn: d.serviceDeploymentArn,
            serviceArn: d.serviceArn,
            targetServiceRevisionArn: (d.targetServiceRevision as { arn: string }).arn,
            status: d.status,
          })),
      }),
      DescribeServiceDeployments: (input) => ({
        serviceDeployments: deployments.filter((d) =>
          (input.serviceDeploymentArns as string[]).includes(String(d.serviceDeploymentArn)),
        ),
        failures: [],
      }),
    },
    fallback: moto.url,
  });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_ECS = ecs.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
  green = await createEcsTaskSet(moto.url, { cluster: 'blue-green', service: 'orders', tasks: 2 });
}, 60_000);

afterAll(async () => {
  await Promise.all([ecs?.close(), moto?.stop()]);
});

beforeEach(() => {
  taskSet = undefined;
  deployments = [];
});

const context = () => ({ cluster: green.cluster, service: green.service, greenTaskSet: green.taskSetId });

function describedTaskSet(counts: { desired: number; running: number; pending: number; status?: string }) {
  return {
    id: green.taskSetId,
    taskSetArn: `arn:aws:ecs:us-east-1:123456789012:task-set/${green.cluster}/${green.service}/${green.taskSetId}`,
    status: counts.status ?? 'ACTIVE',
    computedDesiredCount: counts.desired,
    runningCount: counts.running,
    pendingCount: counts.pending,
    stabilityStatus: 'STEADY_STATE',
  };
}

function serviceDeployment(status: string, counts: { requested: number; running: number; pending: number }) {
  return {
    serviceDeploymentArn: deploymentArn,
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/native/web',
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/native',
    status,
    targetServiceRevision: {
      arn: revisionArn,
      requestedTaskCount: counts.requested,
      runningTaskCount: counts.running,
      pendingTaskCount: counts.pending,
    },
  };
}

describe('ecs-service for a CodeDeploy green task set', () => {
  it('is an error, not a pass, when ECS describes the task set without counts (as moto_server does)', async () => {
    const o = await measureOnce({ type: 'ecs-service' }, context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain(`task set ${green.taskSetId} of blue-green/orders (ACTIVE, STEADY_STATE)`);
    expect(o.message).toContain('ECS reported no desired or running count');
  });

  it('passes when every desired task of the green task set runs and none is pending', async () => {
    taskSet = describedTaskSet({ desired: 2, running: 2, pending: 0 });

    const o = await measureOnce({ type: 'ecs-service' }, context(), deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('2 running of 2 desired, 0 pending');
    const sent = ecs.callsOf('DescribeTaskSets').at(-1)?.input;
    expect(sent).toEqual({ cluster: 'blue-green', service: 'orders', taskSets: [green.taskSetId] });
  });

  it('fails when fewer tasks run than desired', async () => {
    taskSet = describedTaskSet({ desired: 3, running: 2, pending: 0 });

    const o = await measureOnce({ type: 'ecs-service' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('2 running of 3 desired, 0 pending: running is not the desired count');
  });

  it('fails on pending tasks beyond maxPending, and tolerates them within it', async () => {
    taskSet = describedTaskSet({ desired: 2, running: 2, pending: 1 });

    const strict = await measureOnce({ type: 'ecs-service' }, context(), deps);
    const tolerant = await measureOnce({ type: 'ecs-service', maxPending: 1 }, context(), deps);

    expect(strict.outcome).toBe('fail');
    expect(strict.message).toContain('more pending than maxPending 0');
    expect(tolerant.outcome).toBe('pass');
  });

  it('fails a green task set scaled to nothing, and one that is draining', async () => {
    taskSet = describedTaskSet({ desired: 0, running: 0, pending: 0 });
    const empty = await measureOnce({ type: 'ecs-service' }, context(), deps);
    taskSet = describedTaskSet({ desired: 2, running: 2, pending: 0, status: 'DRAINING' });
    const draining = await measureOnce({ type: 'ecs-service' }, context(), deps);

    expect(empty.outcome).toBe('fail');
    expect(empty.message).toContain('fewer than minRunning 1');
    expect(draining.outcome).toBe('fail');
    expect(draining.message).toContain('is DRAINING');
  });

  it('is an error when the task set does not exist', async () => {
    const o = await measureOnce({ type: 'ecs-service', taskSet: 'ecs-svc/0000000000000000000' }, context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('not found');
  });

  it('is an error naming ServiceNotFoundException when moto_server has no such service', async () => {
    const o = await measureOnce({ type: 'ecs-service', service: 'no-such-service' }, context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('ServiceNotFoundException');
  });

  it('reports throttling that outlasts the measurement as an error saying so, never a pass', async () => {
    taskSet = describedTaskSet({ desired: 2, running: 2, pending: 0 });
    ecs.failNext(
      'DescribeTaskSets',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      Number.POSITIVE_INFINITY,
    );

    const o = await measureOnce({ type: 'ecs-service' }, context(), deps, 800);
    ecs.clearFaults('DescribeTaskSets');

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/throttled by AWS \(ECS DescribeTaskSets\) for 0\.\d s/);
  });

  it('retries a throttled read: throttled 3 times, then answered, is a pass', async () => {
    taskSet = describedTaskSet({ desired: 2, running: 2, pending: 0 });
    ecs.failNext('DescribeTaskSets', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);

    const o = await measureOnce({ type: 'ecs-service' }, context(), deps);

    expect(o.outcome).toBe('pass');
  });
});

describe('ecs-service for an ECS native service revision', () => {
  const check = { type: 'ecs-service', serviceRevision: '{{targetServiceRevisionArn}}' };
  const native = { targetServiceRevisionArn: revisionArn };

  it('passes when the target revision runs every requested task, reading cluster and service from its ARN', async () => {
    deployments = [serviceDeployment('IN_PROGRESS', { requested: 3, running: 3, pending: 0 })];

    const o = await measureOnce(check, native, deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toBe(
      `service revision ${revisionArn} (deployment IN_PROGRESS): 3 running of 3 desired, 0 pending`,
    );
    expect(ecs.callsOf('ListServiceDeployments').at(-1)?.input).toMatchObject({ cluster: 'native', service: 'web' });
  });

  it('fails when the deployment is rolling back, whatever the counts', async () => {
    deployments = [
      {
        ...serviceDeployment('ROLLBACK_IN_PROGRESS', { requested: 3, running: 3, pending: 0 }),
        statusReason: 'alarm fired',
      },
    ];

    const o = await measureOnce(check, native, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('service deployment is ROLLBACK_IN_PROGRESS: alarm fired');
  });

  it('fails when the target revision is short of tasks', async () => {
    deployments = [serviceDeployment('IN_PROGRESS', { requested: 3, running: 1, pending: 2 })];

    const o = await measureOnce(check, native, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('1 running of 3 desired, 2 pending');
  });

  it('is an error when no service deployment targets the revision', async () => {
    const o = await measureOnce(check, native, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('no service deployment of native/web targets it');
  });

  it('describes the service deployment the event names without listing the deployments first', async () => {
    deployments = [serviceDeployment('IN_PROGRESS', { requested: 3, running: 3, pending: 0 })];
    const listed = ecs.callsOf('ListServiceDeployments').length;

    const o = await measureOnce(check, { ...native, serviceDeploymentArn: deploymentArn }, deps);

    expect(o.outcome).toBe('pass');
    expect(ecs.callsOf('ListServiceDeployments')).toHaveLength(listed);
    expect(ecs.callsOf('DescribeServiceDeployments').at(-1)?.input).toEqual({ serviceDeploymentArns: [deploymentArn] });
  });

  it('lists the deployments when the one the event names targets another revision', async () => {
    const other = `${deploymentArn}-other`;
    deployments = [
      serviceDeployment('IN_PROGRESS', { requested: 3, running: 3, pending: 0 }),
      {
        ...serviceDeployment('IN_PROGRESS', { requested: 1, running: 1, pending: 0 }),
        serviceDeploymentArn: other,
        targetServiceRevision: { arn: `${revisionArn}1`, requestedTaskCount: 1, runningTaskCount: 1 },
      },
    ];
    const listed = ecs.callsOf('ListServiceDeployments').length;

    const o = await measureOnce(check, { ...native, serviceDeploymentArn: other }, deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('3 running of 3 desired');
    expect(ecs.callsOf('ListServiceDeployments')).toHaveLength(listed + 1);
  });

  it('refuses a revision that is not an ARN unless cluster and service are given', async () => {
    await expect(measureOnce({ ...check, serviceRevision: 'rev-1' }, {}, deps)).rejects.toThrow(
      /checks\.subject\.serviceRevision: expected a service revision ARN/,
    );
  });
});

describe('ecs-service plan fields', () => {
  it('takes a task set or a service revision, not both', () => {
    expect(planProblems({ type: 'ecs-service', taskSet: 'a', serviceRevision: 'b' })).toEqual([
      expect.stringMatching(/^checks\.subject\.serviceRevision: give either taskSet/),
    ]);
  });

  it('targets the ECS native target revision when the plan names neither and the deployment has no task set', async () => {
    deployments = [serviceDeployment('IN_PROGRESS', { requested: 3, running: 3, pending: 0 })];

    const o = await measureOnce(
      { type: 'ecs-service' },
      { cluster: 'native', service: 'web', targetServiceRevisionArn: revisionArn },
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain(`service revision ${revisionArn}`);
  });

  it('fails to build, naming the plan field, when the deployment has neither a task set nor a target revision', async () => {
    await expect(measureOnce({ type: 'ecs-service' }, { cluster: 'c', service: 's' }, deps)).rejects.toThrow(
      /^invalid plan: checks\.subject\.taskSet: \{\{greenTaskSet\}\} has no value for this deployment$/,
    );
  });

  it('names bad bounds', () => {
    expect(planProblems({ type: 'ecs-service', maxPending: 'none', minRunning: 1.5 })).toEqual([
      'checks.subject.maxPending: expected an integer 0-10000, got "none"',
      'checks.subject.minRunning: expected an integer 0-10000, got 1.5',
    ]);
  });
});
