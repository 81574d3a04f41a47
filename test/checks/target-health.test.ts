import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckDeps } from '../../lib/checks/kind.ts';
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

  it('takes an ARN as it is, without a lookup', async () => {
    const before = elb.actions.filter((a) => a === 'DescribeTargetGroups').length;

    const o = await measureOnce(
      { type: 'target-health', targetGroup: '{{greenTargetGroupArn}}' },
      { greenTargetGroupArn: lb.greenTargetGroupArn },
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(elb.actions.filter((a) => a === 'DescribeTargetGroups').length).toBe(before);
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
