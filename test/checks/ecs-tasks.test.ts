import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import {
  createEcsTaskSet,
  type GreenTaskSet,
  holdEcsTaskStates,
  runEcsTasks,
  stopEcsTask,
  viaMoto,
} from '../../local/checks-setup.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
let ecs: JsonFake;
let deps: CheckDeps;
let green: GreenTaskSet;
let native: GreenTaskSet;
/** moto_server's tasks are always healthy: a test that needs other states sets what DescribeTasks answers. */
let described: { tasks: Record<string, unknown>[]; failures?: Record<string, unknown>[] } | undefined;

const revisionArn = 'arn:aws:ecs:us-east-1:123456789012:service-revision/native/web/9313423515462893900';

beforeAll(async () => {
  moto = await startMoto();
  const describeTasks = viaMoto(moto.url, 'AmazonEC2ContainerServiceV20141113.DescribeTasks', {
    service: 'ecs',
    jsonVersion: '1.1',
  });
  // ListTasks goes through the fake only so that tests can see what was asked.
  const listTasks = viaMoto(moto.url, 'AmazonEC2ContainerServiceV20141113.ListTasks', {
    service: 'ecs',
    jsonVersion: '1.1',
  });
  ecs = await startJsonFake({
    operations: {
      ListTasks: listTasks,
      DescribeTasks: (input) => (described ? { failures: [], ...described } : describeTasks(input)),
      // moto_server has no service revisions: the revision's task definition is the one moto_server runs for `native`.
      DescribeServiceRevisions: (input) => ({
        serviceRevisions: (input.serviceRevisionArns as string[])
          .filter((arn) => arn === revisionArn)
          .map((arn) => ({
            serviceRevisionArn: arn,
            taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
            createdAt: Date.now() / 1000 - 600,
          })),
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
  await holdEcsTaskStates(moto.url);
  green = await createEcsTaskSet(moto.url, { cluster: 'blue-green', service: 'orders', tasks: 2 });
  native = await createEcsTaskSet(moto.url, { cluster: 'native', service: 'web', tasks: 1 });
  // Blue: the same service's tasks on the previous task definition (moto_server ignores ListTasks' serviceName).
  await runEcsTasks(moto.url, native.cluster, 'orders', 2);
}, 60_000);

afterAll(async () => {
  await Promise.all([ecs?.close(), moto?.stop()]);
});

beforeEach(() => {
  described = undefined;
});

const context = () => ({ cluster: green.cluster, service: green.service, greenTaskSet: green.taskSetId });

function task(id: string, fields: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return {
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/blue-green/${id}`,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    healthStatus: 'HEALTHY',
    startedBy: green.taskSetId,
    containers: [{ name: 'web', lastStatus: 'RUNNING', healthStatus: 'HEALTHY', ...container }],
    ...fields,
  };
}

function stopped(id: string, fields: Record<string, unknown>, container: Record<string, unknown> = {}) {
  return task(
    id,
    { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stoppedAt: Date.now() / 1000 - 30, ...fields },
    { lastStatus: 'STOPPED', exitCode: 0, ...container },
  );
}

describe('ecs-tasks for a CodeDeploy green task set, against moto_server', () => {
  it("passes when the task set's tasks run and their containers are healthy", async () => {
    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toBe(`tasks of task set ${green.taskSetId}: 2 of 2 running tasks healthy, 0 stopped`);
    const listed = ecs.calls.filter((c) => c.operation === 'ListTasks').map((c) => c.input);
    expect(listed).toContainEqual(expect.objectContaining({ cluster: 'blue-green', startedBy: green.taskSetId }));
  });

  it('does not count a task stopped on purpose with a clean exit as a failure', async () => {
    const extra = await createEcsTaskSet(moto.url, { cluster: 'scale-in', service: 'orders', tasks: 2 });
    await stopEcsTask(moto.url, extra.cluster, extra.taskArns[0] as string);

    const o = await measureOnce(
      { type: 'ecs-tasks' },
      { cluster: extra.cluster, service: extra.service, greenTaskSet: extra.taskSetId },
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('1 of 1 running tasks healthy, 1 stopped');
  });
});

describe('ecs-tasks judging task states (DescribeTasks answered by the fake)', () => {
  it('fails on an UNHEALTHY task', async () => {
    described = { tasks: [task('a'), task('b', { healthStatus: 'UNHEALTHY' }, { healthStatus: 'UNHEALTHY' })] };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('1 of 2 running tasks healthy, 0 stopped: b is UNHEALTHY');
  });

  it('fails on UNKNOWN health (no container health check) unless allowUnknownHealth', async () => {
    described = { tasks: [task('a', { healthStatus: 'UNKNOWN' }, { healthStatus: 'UNKNOWN' })] };

    const strict = await measureOnce({ type: 'ecs-tasks' }, context(), deps);
    const allowed = await measureOnce({ type: 'ecs-tasks', allowUnknownHealth: true }, context(), deps);

    expect(strict.outcome).toBe('fail');
    expect(strict.message).toContain('a is UNKNOWN (no container health check result; allowUnknownHealth is off)');
    expect(allowed.outcome).toBe('pass');
  });

  it('fails while a green task is still PENDING', async () => {
    described = { tasks: [task('a'), task('b', { lastStatus: 'PENDING', healthStatus: 'UNKNOWN' })] };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('b is PENDING');
  });

  it('fails when a task stopped because its essential container exited', async () => {
    described = {
      tasks: [
        task('a'),
        stopped(
          'b',
          { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
          { exitCode: 1 },
        ),
      ],
    };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('b stopped: EssentialContainerExited (Essential container in task exited)');
  });

  it('fails on a non-zero exit unless the plan allows that code', async () => {
    described = { tasks: [task('a'), stopped('b', { stopCode: 'ServiceSchedulerInitiated' }, { exitCode: 143 })] };

    const strict = await measureOnce({ type: 'ecs-tasks' }, context(), deps);
    const allowed = await measureOnce({ type: 'ecs-tasks', allowExitCodes: [143] }, context(), deps);

    expect(strict.outcome).toBe('fail');
    expect(strict.message).toContain('b stopped: container web exited with 143');
    expect(allowed.outcome).toBe('pass');
  });

  it('fails on a task the scheduler stopped for failing its health checks', async () => {
    described = {
      tasks: [
        task('a'),
        stopped('b', {
          stopCode: 'ServiceSchedulerInitiated',
          stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:...)',
        }),
      ],
    };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('b stopped: Task failed ELB health checks');
  });

  it('ignores failures stopped before the window', async () => {
    described = {
      tasks: [task('a'), stopped('old', { stopCode: 'EssentialContainerExited', stoppedAt: Date.now() / 1000 - 3600 })],
    };

    const o = await measureOnce({ type: 'ecs-tasks', window: '15m' }, context(), deps);

    expect(o.outcome).toBe('pass');
  });

  it('treats DescribeTasks failures as an error, never a pass', async () => {
    described = {
      tasks: [task('a')],
      failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:task/blue-green/gone', reason: 'MISSING' }],
    };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('DescribeTasks failures: gone (MISSING)');
  });

  it('fails when no green task runs at all', async () => {
    described = { tasks: [] };

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('0 of 0 running tasks healthy, 0 stopped: fewer than minTasks 1');
  });

  it('reports a denied ListTasks as an error', async () => {
    ecs.failNext('DescribeTasks', { type: 'AccessDeniedException', message: 'not authorized to ecs:DescribeTasks' });

    const o = await measureOnce({ type: 'ecs-tasks' }, context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('AccessDeniedException: not authorized to ecs:DescribeTasks');
  });
});

describe('ecs-tasks for an ECS native service revision', () => {
  it("judges only the service's tasks that run the revision's task definition", async () => {
    const o = await measureOnce(
      { type: 'ecs-tasks', serviceRevision: '{{targetServiceRevisionArn}}' },
      {
        targetServiceRevisionArn: revisionArn,
      },
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(o.message).toBe(`tasks of service revision ${revisionArn}: 1 of 1 running tasks healthy, 0 stopped`);
    const listed = ecs.calls.filter((c) => c.operation === 'ListTasks').map((c) => c.input);
    expect(listed).toContainEqual(expect.objectContaining({ cluster: native.cluster, serviceName: 'web' }));
  });

  it('is an error when ECS does not know the revision', async () => {
    const other = 'arn:aws:ecs:us-east-1:123456789012:service-revision/native/web/1';

    const o = await measureOnce({ type: 'ecs-tasks', serviceRevision: other }, {}, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('revision not found');
  });
});

describe('ecs-tasks plan fields', () => {
  it('names bad exit codes and windows', () => {
    expect(planProblems({ type: 'ecs-tasks', allowExitCodes: [143, 300], window: 'soon' })).toEqual([
      'checks.subject.allowExitCodes[1]: expected an integer 0-255, got 300',
      'checks.subject.window: expected a duration such as 500ms, 5s, 2m or 1h, got "soon"',
    ]);
  });
});
