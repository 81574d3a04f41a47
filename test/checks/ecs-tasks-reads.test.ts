import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ecsChecksAdapter } from '../../lib/aws/ecs-checks.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { Clock, Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import type { DeploymentContext } from '../../lib/spec/placeholders.ts';
import { type EcsFake, type FakeTask, type NativeDeployment, startEcsFake } from '../../local/fakes/ecs.ts';

/**
 * Issue 14: ecs-tasks reads what can change no faster than it can change. ListTasks (RUNNING) at every
 * measurement detects a task that stops or starts; the running tasks are described again only then, or once a
 * container health check interval (read from the task definition, once per hook); stopped tasks are listed
 * again only then, or every 60 s. Every failure the check detects is still detected.
 */

const base = 'arn:aws:ecs:us-east-1:123456789012';
const cluster = 'reads';
const taskDefinition = `${base}:task-definition/orders:7`;

let ecs: EcsFake;
let client: ECSClient;
let now: number;
const clock: Clock = { now: () => now, sleep: async () => {} };
let serial = 0;
/** Task ARNs and a task set unique to each test, so that one test's tasks are not another's. */
let prefix: string;
let taskSet: string;

beforeAll(async () => {
  ecs = await startEcsFake();
  client = new ECSClient({
    region: 'us-east-1',
    endpoint: ecs.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await ecs?.close();
});

beforeEach(() => {
  now = 1_800_000_000_000;
  ecs.calls.length = 0;
  prefix = `t${++serial}`;
  taskSet = `ecs-svc/12345678901234567${serial}`;
  ecs.addTaskDefinition(definition(taskDefinition, [30]));
});

function definition(arn: string, intervals: readonly (number | undefined)[]) {
  return {
    taskDefinitionArn: arn,
    containerDefinitions: intervals.map((interval, i) => ({
      name: `c${i}`,
      ...(interval === undefined ? {} : { healthCheck: { command: ['CMD', 'true'], interval } }),
    })),
  };
}

function task(id: string, fields: Partial<FakeTask> = {}): FakeTask {
  return {
    taskArn: `${base}:task/${cluster}/${prefix}${id}`,
    taskDefinitionArn: taskDefinition,
    startedBy: taskSet,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    healthStatus: 'HEALTHY',
    containers: [{ name: 'c0', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }],
    ...fields,
  };
}

function stopped(id: string, fields: Partial<FakeTask>, exitCode = 0): FakeTask {
  return task(id, {
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stoppedAt: now - 1_000,
    containers: [{ name: 'c0', lastStatus: 'STOPPED', exitCode }],
    ...fields,
  });
}

/** One ecs-tasks check of a hook, measured as many times as a test asks, on the test's clock. */
function checkOf(check: Record<string, unknown>, context: DeploymentContext) {
  const plan = parsePlan({ version: 1, hooks: { '*': ['tasks'] }, checks: { tasks: { type: 'ecs-tasks', ...check } } });
  const [run] = buildRuns(Object.values(plan.checks), context, { clock, ecs: ecsChecksAdapter(() => client) });
  if (!run) throw new Error('no run built');
  return (): Promise<Observation> => run.measure(AbortSignal.timeout(5_000));
}

const taskSetCheck = (check: Record<string, unknown> = {}) =>
  checkOf({ cluster, service: 'orders', taskSet, ...check }, {});

const count = (operation: string, desiredStatus?: string) =>
  ecs
    .callsOf(operation)
    .filter(
      (c) => desiredStatus === undefined || (c.input as { desiredStatus?: string }).desiredStatus === desiredStatus,
    ).length;

/** Measures at each of these times (seconds after the first measurement). */
async function measureAt(measure: () => Promise<Observation>, seconds: readonly number[]): Promise<Observation[]> {
  const start = now;
  const out: Observation[] = [];
  for (const s of seconds) {
    now = start + s * 1000;
    out.push(await measure());
  }
  return out;
}

describe('ecs-tasks reads no faster than tasks change', () => {
  it('describes unchanged running tasks once a container health check interval, and lists RUNNING every time', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck();

    const seen = await measureAt(measure, [0, 5, 10, 25, 30, 35]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(count('ListTasks', 'RUNNING')).toBe(6);
    expect(count('DescribeTasks')).toBe(2); // at 0 s and at 30 s
    expect(count('ListTasks', 'STOPPED')).toBe(1);
    expect(count('DescribeTaskDefinition')).toBe(1);
    expect(seen[0]?.message).toBe(`tasks of task set ${taskSet}: 2 of 2 running tasks healthy, 0 stopped`);
    expect(seen[1]?.message).toBe(
      `tasks of task set ${taskSet}: 2 of 2 running tasks healthy, 0 stopped (running tasks as described 5.0 s ago: none started or stopped since, and container health checks run every 30 s; stopped tasks as listed 5.0 s ago: no task left the running list since, listed again every 60 s)`,
    );
    expect(seen[4]?.message).toContain('(stopped tasks as listed 30.0 s ago');
    expect(seen[4]?.message).not.toContain('running tasks as described');
  });

  it('takes the shortest health check interval among the containers', async () => {
    ecs.addTaskDefinition(definition(taskDefinition, [undefined, 45, 10]));
    ecs.addTasks(cluster, [task('a')]);

    await measureAt(taskSetCheck(), [0, 5, 10]);

    expect(count('DescribeTasks')).toBe(2); // at 0 s and at 10 s
  });

  it('describes tasks without a container health check again every 60 s', async () => {
    ecs.addTaskDefinition(definition(taskDefinition, [undefined]));
    ecs.addTasks(cluster, [
      task('a', { healthStatus: 'UNKNOWN', containers: [{ name: 'c0', lastStatus: 'RUNNING' }] }),
    ]);

    const seen = await measureAt(taskSetCheck({ allowUnknownHealth: true }), [0, 30, 55, 60]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(count('DescribeTasks')).toBe(2); // at 0 s and at 60 s
    expect(seen[1]?.message).toContain('without a container health check, described again every 60 s');
  });

  it('keeps a failing reading a fail while it stands: an UNHEALTHY task is still UNHEALTHY', async () => {
    ecs.addTasks(cluster, [task('a'), task('b', { healthStatus: 'UNHEALTHY' })]);

    const seen = await measureAt(taskSetCheck(), [0, 5, 10]);

    expect(seen.map((o) => o.outcome)).toEqual(['fail', 'fail', 'fail']);
    expect(seen[2]?.message).toContain(`1 of 2 running tasks healthy, 0 stopped: ${prefix}b is UNHEALTHY`);
    expect(seen[2]?.message).toContain('running tasks as described 10.0 s ago');
    expect(count('DescribeTasks')).toBe(1);
  });

  it('describes again at every measurement while a task is not yet RUNNING (its next change waits for no health check)', async () => {
    ecs.addTasks(cluster, [task('a'), task('b', { lastStatus: 'PENDING', healthStatus: 'UNKNOWN' })]);
    const measure = taskSetCheck();

    const first = await measure();
    ecs.addTasks(cluster, [task('b')]);
    now += 5_000;
    const second = await measure();

    expect(first.outcome).toBe('fail');
    expect(first.message).toContain(`${prefix}b is PENDING`);
    expect(second.outcome).toBe('pass');
    expect(count('DescribeTasks')).toBe(2);
  });

  it('reads the task definition once per hook, and an unreadable one only costs reads, never a verdict', async () => {
    ecs.addTasks(cluster, [task('a', { taskDefinitionArn: `${base}:task-definition/unknown:1` })]);
    ecs.failNext('DescribeTaskDefinition', { type: 'ClientException', message: 'Unable to describe task definition.' });

    const seen = await measureAt(taskSetCheck(), [0, 5, 10]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'pass']);
    expect(count('DescribeTaskDefinition')).toBe(1);
    expect(count('DescribeTasks')).toBe(3);
  });
});

describe('ecs-tasks catches a change at the next measurement, whatever the health check interval', () => {
  it('a task whose essential container exited between two measurements', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck();
    const first = await measure();

    ecs.addTasks(cluster, [
      stopped('b', { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }, 1),
    ]);
    now += 5_000;
    const second = await measure();

    expect(first.outcome).toBe('pass');
    expect(second.outcome).toBe('fail');
    expect(second.message).toContain(
      `${prefix}b stopped: EssentialContainerExited (Essential container in task exited)`,
    );
    expect(count('ListTasks', 'STOPPED')).toBe(2);
  });

  it('a task the scheduler stopped for failing its health checks, and its replacement still PENDING', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck();
    await measure();

    ecs.addTasks(cluster, [
      stopped('b', {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Task failed container health checks',
      }),
      task('c', { lastStatus: 'PENDING', healthStatus: 'UNKNOWN' }),
    ]);
    now += 5_000;
    const o = await measure();

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(`${prefix}b stopped: Task failed container health checks`);
    expect(o.message).toContain(`${prefix}c is PENDING`);
  });

  it('a task stopped with an exit code the plan does not allow', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck();
    await measure();

    ecs.addTasks(cluster, [stopped('b', { stopCode: 'ServiceSchedulerInitiated' }, 137)]);
    now += 5_000;
    const o = await measure();

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(`${prefix}b stopped: container c0 exited with 137`);
  });

  it('fewer running tasks than minTasks once a task stopped cleanly', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck({ minTasks: 2 });
    const first = await measure();

    ecs.addTasks(cluster, [stopped('b', { stopCode: 'ServiceSchedulerInitiated' })]);
    now += 5_000;
    const second = await measure();

    expect(first.outcome).toBe('pass');
    expect(second.outcome).toBe('fail');
    expect(second.message).toContain('1 of 1 running tasks healthy, 1 stopped: fewer than minTasks 2');
  });

  it('a task that started and failed between two measurements, the running list unchanged: within 60 s', async () => {
    ecs.addTasks(cluster, [task('a')]);
    const measure = taskSetCheck();
    await measure();

    ecs.addTasks(cluster, [stopped('x', { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError' })]);
    const seen = await measureAt(measure, [5, 55, 60]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'fail']);
    expect(seen[2]?.message).toContain(`${prefix}x stopped: TaskFailedToStart (CannotPullContainerError)`);
  });

  it('a stopped task still stopping is described again until ECS says it stopped', async () => {
    ecs.addTasks(cluster, [task('a'), task('b')]);
    const measure = taskSetCheck();
    await measure();

    // Stop requested: the task left the RUNNING list, its container has not exited yet.
    ecs.addTasks(cluster, [
      task('b', { desiredStatus: 'STOPPED', lastStatus: 'DEACTIVATING', stopCode: 'ServiceSchedulerInitiated' }),
    ]);
    now += 5_000;
    await measure();
    ecs.addTasks(cluster, [stopped('b', { stopCode: 'ServiceSchedulerInitiated' }, 1)]);
    now += 5_000;
    const o = await measure();

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(`${prefix}b stopped: container c0 exited with 1`);
  });

  it('a task that turned UNHEALTHY is seen once the health check interval has passed', async () => {
    ecs.addTasks(cluster, [task('a')]);
    const measure = taskSetCheck();
    await measure();

    ecs.addTasks(cluster, [task('a', { healthStatus: 'UNHEALTHY' })]);
    const seen = await measureAt(measure, [5, 30]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'fail']);
  });
});

describe('ecs-tasks of an ECS native service revision reads the same way', () => {
  let deployment: NativeDeployment;
  const nativeTask = (id: string, fields: Partial<FakeTask> = {}) =>
    task(id, { taskDefinitionArn: `${base}:task-definition/web:2`, serviceName: 'web', ...fields });

  beforeAll(() => {
    deployment = ecs.addNativeDeployment({ cluster: 'native-reads', service: 'web' });
  });

  it('reads the revision and its task definition once, and catches a stop at the next measurement', async () => {
    const measure = checkOf(
      { serviceRevision: '{{targetServiceRevisionArn}}' },
      { targetServiceRevisionArn: deployment.targetServiceRevisionArn },
    );
    ecs.addTasks('native-reads', [nativeTask('a'), nativeTask('b')]);

    const seen = await measureAt(measure, [0, 5]);
    ecs.addTasks('native-reads', [nativeTask('b', stoppedFields(1))]);
    seen.push(...(await measureAt(measure, [10])));

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'fail']);
    expect(seen[2]?.message).toContain(`${prefix}b stopped: EssentialContainerExited`);
    expect(count('DescribeServiceRevisions')).toBe(1);
    // The fake's own default for a task definition its revisions run: one container, health check every 30 s.
    expect(count('DescribeTaskDefinition')).toBe(1);
    expect(count('DescribeTasks')).toBe(3); // running at 0 s; at 10 s the stopped task, then the running ones
  });

  function stoppedFields(exitCode: number): Partial<FakeTask> {
    return {
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedAt: now - 1_000,
      containers: [{ name: 'c0', lastStatus: 'STOPPED', exitCode }],
    };
  }
});
