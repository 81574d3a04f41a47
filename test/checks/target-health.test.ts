import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import type { CheckRun, Clock, Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { registerTargets } from '../../local/checks-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { startTargetHealthFake, type TargetHealthFake } from '../../local/fakes/target-health.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
// ELBv2 (query protocol) goes through this fake to moto_server; the fake adds target states moto never reports.
let elb: TargetHealthFake;
let lb: LocalLoadBalancer;
let deps: CheckDeps;

const greenName = 'gl-th-green';

beforeAll(async () => {
  moto = await startMoto();
  elb = await startTargetHealthFake(moto.url);
  lb = await createLoadBalancer(moto.url, { name: 'gl-th', prodPort: 8080, testPort: 8081 });
  await registerTargets(moto.url, lb.greenTargetGroupArn, [
    { id: '10.0.0.11', port: 8080 },
    { id: '10.0.0.12', port: 8080 },
  ]);
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = elb.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
}, 60_000);

afterAll(async () => {
  await Promise.all([elb?.close(), moto?.stop()]);
});

describe('target-health against moto_server', () => {
  it('targets the green target group by name by default and passes when every target is healthy', async () => {
    const o = await measureOnce({ type: 'target-health' }, { greenTargetGroup: greenName }, deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toBe(`target group ${greenName}: 2 of 2 targets healthy`);
    expect(o.value).toBe(2);
    expect(elb.actions).toContain('DescribeTargetGroups');
  });

  it('reads a target group given by ARN by its ARN (for its health check interval)', async () => {
    const before = elb.actions.length;

    const o = await measureOnce(
      { type: 'target-health', targetGroup: '{{greenTargetGroupArn}}' },
      { greenTargetGroupArn: lb.greenTargetGroupArn },
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(elb.actions.slice(before)).toEqual(['DescribeTargetGroups', 'DescribeTargetHealth']);
  });

  it('fails an empty target group: no healthy target proves nothing', async () => {
    const o = await measureOnce({ type: 'target-health', targetGroup: lb.blueTargetGroupArn }, {}, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/0 of 0 targets healthy, fewer than minHealthy 1/);
  });

  it('fails when fewer targets are healthy than minHealthy', async () => {
    const o = await measureOnce({ type: 'target-health', minHealthy: 3 }, { greenTargetGroup: greenName }, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('2 of 2 targets healthy, fewer than minHealthy 3');
  });

  it('is an error naming TargetGroupNotFound when the group does not exist', async () => {
    const o = await measureOnce({ type: 'target-health', targetGroup: 'no-such-group' }, {}, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/DescribeTargetHealth target group no-such-group: TargetGroupNotFound/);
  });
});

describe('target-health with target states moto_server does not produce (from the fake)', () => {
  it('does not count initial, draining or unused targets as healthy', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [
      { id: '10.0.0.11', port: 8080, state: 'healthy' },
      { id: '10.0.0.12', port: 8080, state: 'initial', reason: 'Elb.RegistrationInProgress' },
      { id: '10.0.0.13', port: 8080, state: 'draining', reason: 'Target.DeregistrationInProgress' },
      { id: '10.0.0.14', port: 8080, state: 'unused', reason: 'Target.NotInUse' },
    ]);

    const o = await measureOnce({ type: 'target-health' }, { greenTargetGroup: greenName }, deps);

    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(1);
    expect(o.message).toContain(
      '1 of 4 targets healthy; not healthy: 10.0.0.12:8080 initial (Elb.RegistrationInProgress)',
    );
    expect(o.message).toContain('10.0.0.13:8080 draining');
    expect(o.message).toContain('10.0.0.14:8080 unused');
  });

  it('fails on an unhealthy target even when enough others are healthy', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [
      { id: '10.0.0.11', port: 8080, state: 'healthy' },
      { id: '10.0.0.12', port: 8080, state: 'healthy' },
      { id: '10.0.0.13', port: 8080, state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' },
    ]);

    const o = await measureOnce({ type: 'target-health', minHealthy: 2 }, { greenTargetGroup: greenName }, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('10.0.0.13:8080 unhealthy (Target.ResponseCodeMismatch)');
  });

  it('retries throttling (ELBv2 Throttling): throttled 3 times, then answered, is the answer', async () => {
    elb.failNext('DescribeTargetHealth', { code: 'Throttling', message: 'Rate exceeded' }, 3);

    const o = await measureOnce({ type: 'target-health', targetGroup: lb.greenTargetGroupArn }, {}, deps);

    expect(o.outcome).not.toBe('error');
    expect(o.message).not.toContain('Throttling');
  });

  it('reports access denied as an error', async () => {
    elb.failNext('DescribeTargetGroups', { code: 'AccessDenied', status: 403, message: 'not authorized' });

    const o = await measureOnce({ type: 'target-health' }, { greenTargetGroup: greenName }, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('AccessDenied');
  });
});

describe('target-health reads no faster than Elastic Load Balancing changes target health', () => {
  let now: number;
  const clock: Clock = { now: () => now, sleep: async () => {} };

  /** One target-health check of a hook, measured at these times (seconds from the first measurement). */
  async function measureAt(check: Record<string, unknown>, seconds: readonly number[], between?: (s: number) => void) {
    const plan = parsePlan({
      version: 1,
      hooks: { '*': ['targets'] },
      checks: { targets: { type: 'target-health', ...check } },
    });
    const [run] = buildRuns(Object.values(plan.checks), { greenTargetGroup: greenName }, { ...deps, clock });
    const start = 1_800_000_000_000;
    const seen: Observation[] = [];
    for (const s of seconds) {
      now = start + s * 1000;
      between?.(s);
      seen.push(await (run as CheckRun).measure(AbortSignal.timeout(5_000)));
    }
    return seen;
  }

  const count = (action: string, from: number) => elb.actions.slice(from).filter((a) => a === action).length;

  it('reads the target group once and reuses a reading younger than its health check interval (30 s), saying so', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [
      { id: '10.0.0.11', port: 8080, state: 'healthy' },
      { id: '10.0.0.12', port: 8080, state: 'healthy' },
    ]);
    const from = elb.actions.length;

    const seen = await measureAt({}, [0, 5, 25, 30, 35]);

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(count('DescribeTargetGroups', from)).toBe(1);
    expect(count('DescribeTargetHealth', from)).toBe(2); // at 0 s and at 30 s
    expect(seen[1]?.message).toBe(
      `target group ${greenName}: 2 of 2 targets healthy (as read 5.0 s ago: target health changes at most once a health check interval, 30 s)`,
    );
    expect(seen[3]?.message).toBe(`target group ${greenName}: 2 of 2 targets healthy`);
  });

  it('sees a target that turned unhealthy at the first read after the interval', async () => {
    const seen = await measureAt({}, [0, 20, 30], (s) =>
      elb.setTargets(lb.greenTargetGroupArn, [
        { id: '10.0.0.11', port: 8080, state: 'healthy' },
        { id: '10.0.0.12', port: 8080, state: s < 10 ? 'healthy' : 'unhealthy', reason: 'Target.Timeout' },
      ]),
    );

    expect(seen.map((o) => o.outcome)).toEqual(['pass', 'pass', 'fail']);
    expect(seen[2]?.message).toContain('10.0.0.12:8080 unhealthy (Target.Timeout)');
  });

  it('keeps a failing reading a fail while it stands', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [
      { id: '10.0.0.11', port: 8080, state: 'healthy' },
      { id: '10.0.0.12', port: 8080, state: 'draining', reason: 'Target.DeregistrationInProgress' },
    ]);
    const from = elb.actions.length;

    const seen = await measureAt({}, [0, 5, 10]);

    expect(seen.map((o) => o.outcome)).toEqual(['fail', 'fail', 'fail']);
    expect(seen[2]?.message).toContain('10.0.0.12:8080 draining (Target.DeregistrationInProgress)');
    expect(seen[2]?.message).toContain('as read 10.0 s ago');
    expect(count('DescribeTargetHealth', from)).toBe(1);
  });

  it('does not reuse a reading that was an error: the next measurement reads again', async () => {
    elb.setTargets(lb.greenTargetGroupArn, [{ id: '10.0.0.11', port: 8080, state: 'healthy' }]);
    elb.failNext('DescribeTargetHealth', { code: 'AccessDenied', status: 403, message: 'not authorized' });
    const from = elb.actions.length;

    const seen = await measureAt({ targetGroup: lb.greenTargetGroupArn }, [0, 5]);

    expect(seen.map((o) => o.outcome)).toEqual(['error', 'pass']);
    expect(count('DescribeTargetHealth', from)).toBe(2);
    expect(count('DescribeTargetGroups', from)).toBe(1);
  });
});

describe('target-health plan fields', () => {
  it('names a bad minHealthy and an empty target group', () => {
    expect(planProblems({ type: 'target-health', targetGroup: '', minHealthy: -1 })).toEqual([
      'checks.subject.targetGroup: must not be empty',
      'checks.subject.minHealthy: expected an integer 0-10000, got -1',
    ]);
  });

  it('fails to build, naming the field, when the deployment has no green target group', async () => {
    await expect(measureOnce({ type: 'target-health' }, {}, deps)).rejects.toThrow(
      /checks\.subject\.targetGroup: \{\{greenTargetGroup\}\} has no value for this deployment/,
    );
  });
});
