import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EcsPort, EcsServiceDeployment } from '../../lib/aws/ecs.ts';
import type { StateKeyPort } from '../../lib/aws/state-key.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import {
  type EcsHookResponse,
  ecsLifecycleHookTrigger,
  hookDetailsKeys,
} from '../../lib/triggers/ecs/lifecycle-hook.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { alarmsPlan, clock, cloudwatch, gateRun, noStateKey, quietLog, stateKey } from '../support/trigger-fakes.ts';

/**
 * The ECS native lifecycle hook trigger with fake ports, in memory: how it reads the event, tells a
 * rollback, picks the stage's checks, builds the context, carries its state in hookDetails and shapes
 * its answer. The lifecycle around it is runGate's (test/gate/run-gate.test.ts); the end-to-end
 * behaviour against loopback AWS is test/functions/ecs-lifecycle-hook.test.ts.
 */

const sample = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const testShift = sample('ecs-lifecycle-hook/test-traffic-shift.json');
const target = 'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900';
const previous = 'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/1920498462936580504';
const deploymentArn =
  'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28';

function fakeEcs(o: { status?: string; rolledBack?: boolean; describeFails?: boolean } = {}) {
  const described: string[] = [];
  const ecs: EcsPort = {
    describeServiceDeployment: async (arn) => {
      described.push(arn);
      if (o.describeFails) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      return {
        serviceDeploymentArn: arn,
        status: o.status ?? 'IN_PROGRESS',
        rolledBack: o.rolledBack ?? false,
        hooks: [],
      } satisfies EcsServiceDeployment;
    },
    serviceRevisionLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    serviceLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    continueServiceDeployment: () => Promise.reject(new Error('a lifecycle hook answers by its return value')),
  };
  return { ecs, described };
}

function trigger(ecs: EcsPort, key: StateKeyPort = stateKey) {
  return ecsLifecycleHookTrigger({
    ecs,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    forwards: { forwardWeights: () => Promise.reject(new Error('no rule needed')) },
    stateKey: key,
    clock,
    log: quietLog,
    settings: { region: 'us-west-2' },
  });
}

function gate(o: { plan: Plan; ecs?: EcsPort; alarm?: 'OK' | 'ALARM'; key?: StateKeyPort }) {
  return runGate(trigger(o.ecs ?? fakeEcs().ecs, o.key), {
    loadPlan: async () => o.plan,
    checks: { clock, cloudwatch: cloudwatch(o.alarm ?? 'OK') },
    clock,
    log: quietLog,
    reserve: '200ms',
  });
}

const result = (answer: EcsHookResponse) =>
  answer.hookDetails?.[hookDetailsKeys.result] as { verdict: string; reasons: string[] } | undefined;

describe('ECS lifecycle hook trigger (fake ports)', () => {
  it('answers SUCCEEDED with the verdict in hookDetails.greenlightResult when the stage has no checks', async () => {
    const answer = await gate({ plan: alarmsPlan({ TEST_TRAFFIC_SHIFT: 'none' }) })(testShift, lambdaContext(5_000));
    expect(answer).toEqual({
      hookStatus: 'SUCCEEDED',
      hookDetails: { [hookDetailsKeys.result]: { verdict: 'pass', reasons: ['no checks: the plan lists none here'] } },
    });
  });

  it('answers FAILED, never throws, on a malformed event: ECS awaits an answer either way', async () => {
    const answer = await gate({ plan: alarmsPlan({ '*': 'none' }) })(
      { lifecycleStage: 'DEPLOY' },
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('FAILED');
    expect(result(answer)?.reasons.join()).toMatch(/^malformed event: lifecycleStage: expected one of/);
  });

  it("runs the checks of the event's stage: a failing alarm at that stage answers FAILED", async () => {
    const plan = alarmsPlan({ TEST_TRAFFIC_SHIFT: 'alarms', PRODUCTION_TRAFFIC_SHIFT: 'none' });
    const atTest = await gate({ plan, alarm: 'ALARM' })(testShift, lambdaContext(5_000));
    const atProduction = await gate({ plan, alarm: 'ALARM' })(
      sample('ecs-lifecycle-hook/production-traffic-shift.json'),
      lambdaContext(5_000),
    );
    expect(atTest.hookStatus).toBe('FAILED');
    expect(result(atTest)?.verdict).toBe('fail');
    expect(atProduction.hookStatus).toBe('SUCCEEDED');
  });

  it('answers FAILED, naming the stage, when the plan has no entry for it', async () => {
    const answer = await gate({ plan: alarmsPlan({ PRODUCTION_TRAFFIC_SHIFT: 'none' }) })(
      testShift,
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('FAILED');
    expect(result(answer)?.reasons.join()).toMatch(/no entry for TEST_TRAFFIC_SHIFT/);
  });

  it('passes a rollback told by the weights (target at 0%, another revision above) without asking ECS', async () => {
    const ecs = fakeEcs();
    const event = {
      ...testShift,
      executionDetails: {
        ...(testShift.executionDetails as object),
        testTrafficWeights: { [target]: 0, [previous]: 100 },
      },
    };
    const answer = await gate({ plan: alarmsPlan({ '*': 'alarms' }), ecs: ecs.ecs, alarm: 'ALARM' })(
      event,
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('SUCCEEDED');
    expect(result(answer)?.verdict).toBe('skipped');
    expect(result(answer)?.reasons.join()).toMatch(/^rollback in progress, not blocked: test traffic shifts away/);
    expect(ecs.described).toEqual([]);
  });

  it('passes a rollback told by the service deployment status when the weights do not say', async () => {
    const ecs = fakeEcs({ status: 'ROLLBACK_IN_PROGRESS' });
    const answer = await gate({ plan: alarmsPlan({ '*': 'alarms' }), ecs: ecs.ecs, alarm: 'ALARM' })(
      testShift,
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('SUCCEEDED');
    expect(result(answer)?.reasons).toEqual([
      'rollback in progress, not blocked: the service deployment is ROLLBACK_IN_PROGRESS',
    ]);
    expect(ecs.described).toEqual([deploymentArn]);
  });

  it('validates as usual when the deployment status cannot be read to rule out a rollback', async () => {
    const ecs = fakeEcs({ describeFails: true });
    const answer = await gate({ plan: alarmsPlan({ '*': 'alarms' }), ecs: ecs.ecs, alarm: 'ALARM' })(
      testShift,
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('FAILED');
  });

  it('asks ECS about a rollback only at the traffic-shift stages', async () => {
    const ecs = fakeEcs({ status: 'ROLLBACK_IN_PROGRESS' });
    const answer = await gate({ plan: alarmsPlan({ '*': 'none' }), ecs: ecs.ecs })(
      sample('ecs-lifecycle-hook/pre-production-traffic-shift.json'),
      lambdaContext(5_000),
    );
    expect(answer.hookStatus).toBe('SUCCEEDED');
    expect(result(answer)?.verdict).toBe('pass');
    expect(ecs.described).toEqual([]);
  });

  it("takes a plan carried in hookDetails.greenlightPlan over the function's own", async () => {
    const event = { ...testShift, hookDetails: { [hookDetailsKeys.plan]: { version: 1, hooks: { '*': [] } } } };
    const answer = await gate({ plan: alarmsPlan({ '*': 'alarms' }), alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(answer.hookStatus).toBe('SUCCEEDED');
  });

  it('refuses a hookDetails plan that reads secrets: whoever can invoke the function writes it', async () => {
    const carried = { version: 1, secrets: { token: { secret: 'prod/token' } }, hooks: { '*': [] } };
    const event = { ...testShift, hookDetails: { [hookDetailsKeys.plan]: carried } };
    const answer = await gate({ plan: alarmsPlan({ '*': 'none' }) })(event, lambdaContext(5_000));
    expect(answer.hookStatus).toBe('FAILED');
    expect(result(answer)?.reasons.join()).toMatch(/hookDetails\.greenlightPlan/);
  });

  it('builds the context from the event: stage, cluster, service, deployment, revision and weights', async () => {
    const t = trigger(fakeEcs().ecs);
    const input = t.read(testShift);
    if ('kind' in input && input.kind !== 'hook') throw new Error('expected a hook');
    const run = gateRun(alarmsPlan({ '*': 'none' }));
    const opened = await t.open(input as never, run);
    if (opened.kind !== 'open') throw new Error('expected the hook to open');
    const context = await t.context(input as never, opened.hook, { key: '*', checks: [] }, run);
    expect(context).toMatchObject({
      hook: 'TEST_TRAFFIC_SHIFT',
      lifecycleStage: 'TEST_TRAFFIC_SHIFT',
      cluster: 'my-cluster',
      service: 'my-service',
      serviceDeploymentArn: deploymentArn,
      targetServiceRevisionArn: target,
      testTrafficWeight: '100',
      region: 'us-west-2',
    });
  });

  describe('state carried in hookDetails', () => {
    const long = alarmsPlan({ '*': 'alarms' }, 3, '10s');
    const withDetails = (details: Record<string, unknown>) => ({ ...testShift, hookDetails: details });

    it("answers IN_PROGRESS with a callBackDelay and the sealed state, keeping the service's own keys only", async () => {
      const stale = { [hookDetailsKeys.result]: { verdict: 'fail', reasons: ['an earlier answer'] } };
      const answer = await gate({ plan: long })(withDetails({ approvalChecked: true, ...stale }), lambdaContext(1_500));
      expect(answer.hookStatus).toBe('IN_PROGRESS');
      expect(answer.callBackDelay).toBeGreaterThanOrEqual(1);
      expect(answer.callBackDelay).toBeLessThanOrEqual(10);
      expect(answer.hookDetails?.approvalChecked).toBe(true);
      expect(answer.hookDetails).not.toHaveProperty(hookDetailsKeys.result);
      expect(answer.hookDetails?.[hookDetailsKeys.state]).toMatchObject({ legs: 1, mac: expect.any(String) });
    });

    it('resumes the analysis from the state it wrote: the next invocation counts on', async () => {
      const first = await gate({ plan: long })(withDetails({}), lambdaContext(1_500));
      const second = await gate({ plan: long })(withDetails(first.hookDetails ?? {}), lambdaContext(1_500));
      expect(second.hookStatus).toBe('IN_PROGRESS');
      expect(second.hookDetails?.[hookDetailsKeys.state]).toMatchObject({ legs: 2 });
    });

    it('answers FAILED on state that was altered: it does not verify under the state key', async () => {
      const first = await gate({ plan: long })(withDetails({}), lambdaContext(1_500));
      const state = first.hookDetails?.[hookDetailsKeys.state] as Record<string, unknown>;
      const tampered = { ...state, legs: 4 };
      const answer = await gate({ plan: long })(
        withDetails({ [hookDetailsKeys.state]: tampered }),
        lambdaContext(1_500),
      );
      expect(answer.hookStatus).toBe('FAILED');
      expect(result(answer)?.reasons.join()).toMatch(/state\.mac does not verify/);
    });

    it('answers FAILED on state sealed under another key', async () => {
      const first = await gate({ plan: long })(withDetails({}), lambdaContext(1_500));
      const otherKey: StateKeyPort = async () => new Uint8Array(32).fill(9);
      const answer = await gate({ plan: long, key: otherKey })(
        withDetails(first.hookDetails ?? {}),
        lambdaContext(1_500),
      );
      expect(answer.hookStatus).toBe('FAILED');
      expect(result(answer)?.reasons.join()).toMatch(/does not verify/);
    });

    it('answers FAILED on state carried from another stage', async () => {
      const first = await gate({ plan: long })(withDetails({}), lambdaContext(1_500));
      const elsewhere = {
        ...sample('ecs-lifecycle-hook/production-traffic-shift.json'),
        hookDetails: first.hookDetails,
      };
      const answer = await gate({ plan: long })(elsewhere, lambdaContext(1_500));
      expect(answer.hookStatus).toBe('FAILED');
      expect(result(answer)?.reasons.join()).toMatch(/state\.(plan|bind)/);
    });

    it('answers FAILED when the state key cannot be read to hand the analysis on', async () => {
      const answer = await gate({ plan: long, key: noStateKey })(withDetails({}), lambdaContext(1_500));
      expect(answer.hookStatus).toBe('FAILED');
      expect(result(answer)?.reasons.join()).toMatch(/state key/);
    });
  });
});
