import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client, ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsChecksAdapter } from '../../lib/aws/ecs-checks.ts';
import { targetHealthAdapter } from '../../lib/aws/target-health.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { CheckRun } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { registerTargets } from '../../local/checks-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type EcsFake, type FakeTask, startEcsFake } from '../../local/fakes/ecs.ts';
import { startTargetHealthFake, type TargetHealthFake } from '../../local/fakes/target-health.ts';
import { type Moto, startMoto } from '../../local/moto.ts';

// Red team (issue 14 read reuse): target-health and ecs-tasks reuse a reading for up to the health check
// interval (5-300 s). A health check can run at any moment after a reading, so the reading may be stale for
// that whole interval: with a 300 s interval, a 3-measurement schedule of green was judged on its FIRST
// reading only, and a target or task that turned unhealthy right after it still passed the check. A reused
// reading may stand in between, but the measurement whose pass completes the check must read afresh.

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const policy = { count: 3, interval: '150ms', timeout: '3s' };

async function verdictOf(run: CheckRun, afterFirst: () => void) {
  let first = true;
  const analysis = await analyze({
    checks: [run],
    clock: systemClock,
    signal: AbortSignal.timeout(20_000),
    deadlineAt: Date.now() + 20_000,
    onMeasurement: () => {
      if (first) afterFirst();
      first = false;
    },
  });
  if (analysis.kind !== 'verdict') throw new Error('expected a verdict');
  return analysis.verdict;
}

describe('target-health with a 300 s target group health check interval', () => {
  let moto: Moto;
  let elb: TargetHealthFake;
  let lb: LocalLoadBalancer;
  let client: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    moto = await startMoto();
    elb = await startTargetHealthFake(moto.url);
    lb = await createLoadBalancer(moto.url, { name: 'gl-rt4', prodPort: 8080, testPort: 8081 });
    await registerTargets(moto.url, lb.greenTargetGroupArn, [{ id: '10.0.0.11', port: 8080 }]);
    client = new ElasticLoadBalancingV2Client({ region: 'us-east-1', endpoint: elb.url, credentials });
    await client.send(
      new ModifyTargetGroupCommand({ TargetGroupArn: lb.greenTargetGroupArn, HealthCheckIntervalSeconds: 300 }),
    );
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await Promise.all([elb?.close(), moto?.stop()]);
  });

  function run(): CheckRun {
    const plan = parsePlan({
      version: 1,
      hooks: { '*': ['targets'] },
      checks: { targets: { type: 'target-health', targetGroup: lb.greenTargetGroupArn, ...policy } },
    });
    const deps = { clock: systemClock, targetHealth: targetHealthAdapter(() => client) } as CheckDeps;
    const [r] = buildRuns(Object.values(plan.checks), {}, deps);
    if (!r) throw new Error('no run');
    return r;
  }

  it('fails a target that turned unhealthy after the first reading', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [{ id: '10.0.0.11', port: 8080, state: 'healthy' }]);
    const verdict = await verdictOf(run(), () =>
      elb.setTargets(lb.greenTargetGroupArn, [
        { id: '10.0.0.11', port: 8080, state: 'unhealthy', reason: 'Target.Timeout' },
      ]),
    );
    expect(verdict.status).toBe('fail');
    expect(verdict.reasons[0]).toContain('10.0.0.11:8080 unhealthy (Target.Timeout)');
  });

  it('fails a target that was deregistered (draining) after the first reading', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [{ id: '10.0.0.11', port: 8080, state: 'healthy' }]);
    const verdict = await verdictOf(run(), () =>
      elb.setTargets(lb.greenTargetGroupArn, [
        { id: '10.0.0.11', port: 8080, state: 'draining', reason: 'Target.DeregistrationInProgress' },
      ]),
    );
    expect(verdict.status).toBe('fail');
  });
});

describe('ecs-tasks with a 300 s container health check interval', () => {
  const base = 'arn:aws:ecs:us-east-1:123456789012';
  const cluster = 'rt4';
  const taskDefinition = `${base}:task-definition/orders:9`;
  const taskSet = 'ecs-svc/1234567890123456789';
  let ecs: EcsFake;
  let client: ECSClient;

  beforeAll(async () => {
    ecs = await startEcsFake();
    client = new ECSClient({ region: 'us-east-1', endpoint: ecs.url, credentials });
    ecs.addTaskDefinition({
      taskDefinitionArn: taskDefinition,
      containerDefinitions: [{ name: 'c0', healthCheck: { command: ['CMD', 'true'], interval: 300 } }],
    });
  });

  afterAll(async () => {
    client?.destroy();
    await ecs?.close();
  });

  const task = (health: string): FakeTask => ({
    taskArn: `${base}:task/${cluster}/rt4a`,
    taskDefinitionArn: taskDefinition,
    startedBy: taskSet,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    healthStatus: health,
    containers: [{ name: 'c0', lastStatus: 'RUNNING', healthStatus: health }],
  });

  it('fails a task that turned UNHEALTHY after the first reading (same task, still RUNNING)', async () => {
    ecs.addTasks(cluster, [task('HEALTHY')]);
    const plan = parsePlan({
      version: 1,
      hooks: { '*': ['tasks'] },
      checks: { tasks: { type: 'ecs-tasks', cluster, service: 'orders', taskSet, ...policy } },
    });
    const deps = { clock: systemClock, ecs: ecsChecksAdapter(() => client) } as CheckDeps;
    const [r] = buildRuns(Object.values(plan.checks), {}, deps);
    if (!r) throw new Error('no run');
    const verdict = await verdictOf(r, () => ecs.addTasks(cluster, [task('UNHEALTHY')]));
    expect(verdict.status).toBe('fail');
    expect(verdict.reasons[0]).toContain('rt4a is UNHEALTHY');
  });

  it('fails a task that started and crashed between two measurements (the running list unchanged)', async () => {
    const set = 'ecs-svc/2234567890123456789';
    const healthy = { ...task('HEALTHY'), taskArn: `${base}:task/${cluster}/rt4b`, startedBy: set };
    ecs.addTasks(cluster, [healthy]);
    const plan = parsePlan({
      version: 1,
      hooks: { '*': ['tasks'] },
      checks: { tasks: { type: 'ecs-tasks', cluster, service: 'orders', taskSet: set, ...policy } },
    });
    const deps = { clock: systemClock, ecs: ecsChecksAdapter(() => client) } as CheckDeps;
    const [r] = buildRuns(Object.values(plan.checks), {}, deps);
    if (!r) throw new Error('no run');
    const verdict = await verdictOf(r, () =>
      ecs.addTasks(cluster, [
        {
          ...healthy,
          taskArn: `${base}:task/${cluster}/rt4crash`,
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: Date.now(),
          containers: [{ name: 'c0', lastStatus: 'STOPPED', exitCode: 1 }],
        },
      ]),
    );
    expect(verdict.status).toBe('fail');
    expect(verdict.reasons[0]).toContain('rt4crash stopped: EssentialContainerExited');
  });
});
