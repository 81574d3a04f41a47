import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudWatchAdapter } from '../../lib/aws/cloudwatch.ts';
import { ecsAdapter } from '../../lib/aws/ecs.ts';
import { ecsChecksAdapter } from '../../lib/aws/ecs-checks.ts';
import { defaultRetryTuning, withRetry } from '../../lib/aws/retry.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze, scheduleJitter } from '../../lib/core/analyze.ts';
import type { Clock } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { virtualClock } from '../core/virtual-clock.ts';

const region = 'us-east-1';
const revision = `arn:aws:ecs:${region}:123456789012:service-revision/shop/orders/1`;
const deployment = `arn:aws:ecs:${region}:123456789012:service-deployment/shop/orders/d1`;
const throttled = { type: 'ThrottlingException', message: 'Rate exceeded' };
/** Fast backoff, so that a test sees several throttled attempts in well under a second. */
const tuning = { ...defaultRetryTuning, throttleBaseMs: 10, throttleCapMs: 40 };

let ecs: JsonFake;
let cloudwatch: JsonFake;
let ecsClient: ECSClient;
let cwClient: CloudWatchClient;

beforeAll(async () => {
  ecs = await startJsonFake({
    operations: {
      ListServiceDeployments: () => ({
        serviceDeployments: [{ serviceDeploymentArn: deployment, targetServiceRevisionArn: revision }],
      }),
      DescribeServiceDeployments: () => ({
        serviceDeployments: [
          {
            serviceDeploymentArn: deployment,
            status: 'IN_PROGRESS',
            targetServiceRevision: { arn: revision, requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0 },
          },
        ],
      }),
      DescribeServiceRevisions: () => ({
        serviceRevisions: [
          {
            serviceRevisionArn: revision,
            taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:2',
            loadBalancers: [{ targetGroupArn: 'tg-a', advancedConfiguration: { alternateTargetGroupArn: 'tg-b' } }],
          },
        ],
      }),
      DescribeTaskDefinition: () => ({
        taskDefinition: {
          taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:2',
          containerDefinitions: [{ name: 'app', healthCheck: { command: ['CMD', 'true'], interval: 30 } }],
        },
      }),
      ListTasks: (input) => ({
        taskArns: input.desiredStatus === 'STOPPED' ? [] : ['arn:aws:ecs:us-east-1:123456789012:task/shop/t1'],
      }),
      DescribeTasks: () => ({
        tasks: [
          {
            taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/shop/t1',
            lastStatus: 'RUNNING',
            desiredStatus: 'RUNNING',
            healthStatus: 'HEALTHY',
            taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:2',
            containers: [],
          },
        ],
      }),
    },
  });
  cloudwatch = await startJsonFake({
    operations: {
      DescribeAlarms: () => ({
        MetricAlarms: [{ AlarmName: 'orders-5xx', StateValue: 'OK', Period: 60 }],
        CompositeAlarms: [],
      }),
    },
  });
  const config = { region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  ecsClient = withRetry((c) => new ECSClient({ ...config, ...c, endpoint: ecs.url }), tuning);
  cwClient = withRetry((c) => new CloudWatchClient({ ...config, ...c, endpoint: cloudwatch.url }), tuning);
});

afterEach(() => {
  ecs.clearFaults();
  ecs.calls.length = 0;
  cloudwatch.calls.length = 0;
});

afterAll(async () => {
  ecsClient?.destroy();
  cwClient?.destroy();
  await Promise.all([ecs?.close(), cloudwatch?.close()]);
});

function runsOf(checks: Record<string, Record<string, unknown>>, clock: Clock = systemClock) {
  const plan = parsePlan({ version: 1, hooks: { '*': Object.keys(checks) }, checks });
  const deps: CheckDeps = {
    clock,
    ecs: ecsChecksAdapter(() => ecsClient),
    cloudwatch: cloudWatchAdapter(() => cwClient),
  };
  return buildRuns(Object.values(plan.checks), { targetServiceRevisionArn: revision }, deps);
}

const service = { type: 'ecs-service', serviceRevision: '{{targetServiceRevisionArn}}' };

describe('throttled AWS reads (issue 14)', () => {
  it('a read throttled twice, then answered within the measurement time, is a pass', async () => {
    ecs.failNext('DescribeServiceDeployments', throttled, 2);
    const [run] = runsOf({ service });

    const o = await run?.measure(AbortSignal.timeout(5_000), { index: 1, cutAt: Date.now() + 5_000 });

    expect(o?.outcome).toBe('pass');
    expect(ecs.callsOf('DescribeServiceDeployments')).toHaveLength(3);
  });

  it('a read still throttled when the measurement time is spent is an error whose reason says throttled', async () => {
    ecs.failNext('DescribeServiceDeployments', throttled, Number.POSITIVE_INFINITY);
    const [run] = runsOf({ service });
    const cutAt = Date.now() + 600;

    const o = await run?.measure(AbortSignal.timeout(5_000), { index: 1, cutAt });

    expect(o?.outcome).toBe('error');
    expect(o?.message).toMatch(/throttled by AWS \(ECS DescribeServiceDeployments\) for 0\.\d s/);
    expect(Date.now()).toBeLessThan(cutAt + 50);
    expect(ecs.callsOf('DescribeServiceDeployments').length).toBeGreaterThan(3);
  });

  it('a measurement AWS throttles to its end is taken again while the deadline allows, and the check passes on real reads', async () => {
    ecs.failNext('DescribeServiceDeployments', throttled, Number.POSITIVE_INFINITY);
    const lifted = setTimeout(() => ecs.clearFaults(), 400);
    const checks = runsOf({ service: { ...service, count: 2, interval: '300ms', timeout: '300ms' } });
    const seen: string[] = [];
    try {
      const analysis = await analyze({
        checks,
        clock: systemClock,
        signal: AbortSignal.timeout(10_000),
        deadlineAt: Date.now() + 10_000,
        onMeasurement: (_c, m) => seen.push(`${m.outcome}${m.throttled ? ' (throttled)' : ''}`),
      });
      expect(analysis.kind === 'verdict' && analysis.verdict.status).toBe('pass');
      expect(seen[0]).toBe('error (throttled)');
      expect(seen.filter((s) => s === 'pass')).toHaveLength(2);
    } finally {
      clearTimeout(lifted);
    }
  });

  /** An ecs-tasks measurement whose ListTasks AWS throttles for `liftAfterMs`, then whose DescribeTasks is slow. */
  async function throttledThenSlow(liftAfterMs: number, signal: AbortSignal, cutAt: number) {
    ecs.failNext('ListTasks', throttled, Number.POSITIVE_INFINITY);
    const lifted = setTimeout(() => ecs.clearFaults('ListTasks'), liftAfterMs);
    ecs.delay('DescribeTasks', 2_000);
    try {
      const [run] = runsOf({ tasks: { type: 'ecs-tasks', serviceRevision: '{{targetServiceRevisionArn}}' } });
      return await run?.measure(signal, { index: 1, cutAt });
    } finally {
      clearTimeout(lifted);
      ecs.delay('DescribeTasks', 0);
    }
  }

  it('a measurement whose time ran out after AWS throttled an earlier read is throttled, though the read cut was not', async () => {
    // ListTasks throttled for 300 ms of a 600 ms measurement, then DescribeTasks slow: the budget cuts DescribeTasks.
    const o = await throttledThenSlow(300, AbortSignal.timeout(5_000), Date.now() + 600);
    expect(o?.outcome).toBe('error');
    expect(o?.throttled).toBe(true);
    expect(o?.message).toMatch(/time for AWS reads ran out \(AWS throttled \d+ of its reads\)$/);
  });

  it("is throttled too when the analysis's timeout cuts it before its read budget does (a busy event loop)", async () => {
    const o = await throttledThenSlow(200, AbortSignal.timeout(400), Date.now() + 5_000);
    expect(o?.outcome).toBe('error');
    expect(o?.throttled).toBe(true);
  });

  it('an ecs-tasks measurement AWS throttled halfway is taken again from where it stopped: stopped tasks not listed twice', async () => {
    // The running branch stalls on DescribeTaskDefinition; the stopped branch (ListTasks STOPPED) got its answer.
    ecs.failNext('DescribeTaskDefinition', throttled, Number.POSITIVE_INFINITY);
    const [run] = runsOf({ tasks: { type: 'ecs-tasks', serviceRevision: '{{targetServiceRevisionArn}}' } });
    const first = await run?.measure(AbortSignal.timeout(5_000), { index: 1, cutAt: Date.now() + 300 });
    expect(first?.throttled).toBe(true);
    const stoppedLists = () => ecs.callsOf('ListTasks').filter((c) => c.input.desiredStatus === 'STOPPED').length;
    expect(stoppedLists()).toBe(1);

    ecs.clearFaults();
    const retake = await run?.measure(AbortSignal.timeout(5_000), { index: 1, cutAt: Date.now() + 5_000 });
    expect(retake?.outcome).toBe('pass');
    expect(stoppedLists()).toBe(1);
  });

  it('a measurement cut without any throttling is a plain error, not throttled', async () => {
    ecs.delay('DescribeServiceDeployments', 2_000);
    try {
      const [run] = runsOf({ service });
      const o = await run?.measure(AbortSignal.timeout(5_000), { index: 1, cutAt: Date.now() + 300 });
      expect(o?.outcome).toBe('error');
      expect(o?.throttled).toBeUndefined();
    } finally {
      ecs.delay('DescribeServiceDeployments', 0);
    }
  });

  it('without a deadline to stretch to, the same throttled measurement is the error it always was', async () => {
    ecs.failNext('DescribeServiceDeployments', throttled, Number.POSITIVE_INFINITY);
    const checks = runsOf({ service: { ...service, count: 2, interval: '300ms', timeout: '300ms' } });
    const analysis = await analyze({ checks, clock: systemClock, signal: AbortSignal.timeout(10_000) });
    expect(analysis.kind === 'verdict' && analysis.verdict.status).toBe('error');
    expect(analysis.kind === 'verdict' && analysis.verdict.reasons[0]).toMatch(/throttled by AWS/);
  });

  it('a context read throttled twice, then answered, does not fail the hook', async () => {
    ecs.failNext('DescribeServiceRevisions', throttled, 2);

    const lbs = await ecsAdapter(() => ecsClient).serviceRevisionLoadBalancers(revision, AbortSignal.timeout(5_000));

    expect(lbs?.[0]?.alternateTargetGroupArn).toBe('tg-b');
    expect(ecs.callsOf('DescribeServiceRevisions')).toHaveLength(3);
  });

  it("reads a hook's immutable facts once across its measurements: service deployment, revision, task definition", async () => {
    const every = { count: 4, interval: '10ms' };
    const runs = runsOf({
      service: { ...service, ...every },
      tasks: { type: 'ecs-tasks', serviceRevision: '{{targetServiceRevisionArn}}', ...every },
    });

    const analysis = await analyze({ checks: runs, clock: systemClock, signal: AbortSignal.timeout(10_000) });

    expect(analysis.kind === 'verdict' && analysis.verdict.status).toBe('pass');
    expect(ecs.callsOf('ListServiceDeployments')).toHaveLength(1);
    expect(ecs.callsOf('DescribeServiceRevisions')).toHaveLength(1);
    expect(ecs.callsOf('DescribeServiceDeployments')).toHaveLength(4);
    expect(ecs.callsOf('DescribeTaskDefinition')).toHaveLength(1);
    // The running list did not change and container health checks run every 30 s: described at the first
    // measurement, and again at the last, whose pass completes the check (never a pass on an older reading).
    expect(ecs.callsOf('ListTasks').filter((c) => c.input.desiredStatus === 'RUNNING')).toHaveLength(4);
    expect(ecs.callsOf('DescribeTasks')).toHaveLength(2);
  });

  it('does not poll alarms faster than their period: every 5 s for a minute reads a 60 s alarm twice', async () => {
    let now = 1_700_000_000_000;
    const clock: Clock = { now: () => now, sleep: async () => {} };
    const [run] = runsOf({ alarms: { type: 'cloudwatch-alarms', alarms: ['orders-5xx'] } }, clock);
    const messages: string[] = [];

    for (let i = 0; i < 13; i++) {
      const o = await run?.measure(AbortSignal.timeout(5_000));
      expect(o?.outcome).toBe('pass');
      messages.push(o?.message ?? '');
      now += 5_000;
    }

    expect(cloudwatch.callsOf('DescribeAlarms')).toHaveLength(2);
    expect(messages[1]).toMatch(/as read 5\.0 s ago: alarms change at most once a period, 60 s/);
  });
});

describe('schedule jitter (issue 14)', () => {
  const policy = {
    initialDelayMs: 0,
    count: 3,
    intervalMs: 5_000,
    timeoutMs: 5_000,
    failureLimit: 0,
    consecutiveErrorLimit: 0,
    consecutiveSuccesses: 0,
    inconclusiveLimit: 0,
    dryRun: false,
  };

  it('is bounded and the same for the same hook, different for another', () => {
    const j = scheduleJitter(policy);
    const hooks = Array.from({ length: 200 }, (_, i) => `deployment-${i}/POST_TEST_TRAFFIC_SHIFT`);
    const firsts = hooks.map((h) => j.initial(h, 'tasks'));

    expect(j.initialMaxMs).toBe(2_500);
    // Intervals are not jittered: the first delay spreads hooks, and each keeps its interval after it.
    expect(j.intervalMaxMs).toBe(0);
    for (const h of hooks) {
      expect(j.initial(h, 'tasks')).toBe(j.initial(h, 'tasks'));
      const first = j.initial(h, 'tasks');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(2_500);
      const next = j.interval(h, 'tasks', 1);
      expect(next).toBe(0);
    }
    // 200 deployments started together spread over the window, not in lockstep.
    expect(new Set(firsts.map((f) => Math.floor(f / 250))).size).toBe(10);
  });

  it('moves measurements in the analysis by the seed, deterministically', async () => {
    const starts = async (seed: string) => {
      const { clock, run } = virtualClock(0);
      const at: number[] = [];
      await run(
        analyze({
          checks: [
            {
              name: 'c',
              kind: 'http',
              policy,
              measure: async () => {
                at.push(clock.now());
                return { outcome: 'pass', message: 'ok' };
              },
            },
          ],
          clock,
          signal: new AbortController().signal,
          jitterSeed: seed,
        }),
      );
      return at;
    };

    const a = await starts('d-1/STAGE');
    expect(await starts('d-1/STAGE')).toEqual(a);
    expect(await starts('d-2/STAGE')).not.toEqual(a);
    const [first = 0, second = 0] = a;
    expect(a).toHaveLength(3);
    expect(second - first).toBeGreaterThanOrEqual(5_000);
    expect(second - first).toBeLessThan(5_500);
  });
});
