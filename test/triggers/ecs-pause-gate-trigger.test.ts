import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DurableStartPort } from '../../lib/aws/durable-start.ts';
import type { EcsHookAction, EcsLifecycleHookDetail, EcsPort, EcsServiceDeployment } from '../../lib/aws/ecs.ts';
import { ReportError } from '../../lib/gate/deliver.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { readPauseGateInput } from '../../lib/triggers/ecs/event.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { alarmsPlan, clock, cloudwatch, gateRun, quietLog } from '../support/trigger-fakes.ts';

/**
 * The ECS PAUSE gate trigger with fake ports, in memory: which events it takes, how it confirms with
 * DescribeServiceDeployments that the hook awaits action, which stage's checks it runs, how it starts a
 * durable execution for a long analysis, and the ContinueServiceDeployment call it makes. The durable
 * execution itself: test/gate/durable-gates.test.ts. The lifecycle
 * around it is runGate's (test/gate/run-gate.test.ts); end to end: test/functions/ecs-pause-gate.test.ts.
 */

const event = JSON.parse(
  readFileSync(new URL('../../events/ecs-pause-gate/hook-awaiting-action.json', import.meta.url), 'utf8'),
) as { detail: Record<string, unknown> } & Record<string, unknown>;
const hookId = event.detail.hookId as string;
const deploymentArn = event.detail.serviceDeploymentArn as string;
const serviceArn = event.detail.serviceArn as string;
const revision = 'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900';

type Continued = { serviceDeploymentArn: string; hookId: string; action: EcsHookAction };

/**
 * ECS as DescribeServiceDeployments reports it: `states` are the hook's statuses in call order (the last
 * one repeats), so a test can have the hook decided elsewhere during the analysis.
 */
function fakeEcs(
  o: {
    states?: readonly string[];
    stage?: string;
    hook?: Partial<EcsLifecycleHookDetail>;
    deployment?: Partial<EcsServiceDeployment> | 'missing';
    describeFails?: boolean;
    continueFails?: boolean;
  } = {},
) {
  const continued: Continued[] = [];
  let calls = 0;
  const ecs: EcsPort = {
    describeServiceDeployment: async (arn) => {
      const states = o.states ?? ['AWAITING_ACTION'];
      const status = states[Math.min(calls, states.length - 1)] ?? 'AWAITING_ACTION';
      calls++;
      if (o.describeFails) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      if (o.deployment === 'missing') return undefined;
      return {
        serviceDeploymentArn: arn,
        serviceArn,
        clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster',
        status: 'IN_PROGRESS',
        lifecycleStage: o.stage ?? 'POST_TEST_TRAFFIC_SHIFT',
        targetServiceRevisionArn: revision,
        targetTestTrafficWeight: 100,
        targetProductionTrafficWeight: 0,
        rolledBack: false,
        hooks: [{ hookId, targetType: 'PAUSE', status, expiresAt: Date.now() + 600_000, ...o.hook }],
        ...o.deployment,
      };
    },
    serviceRevisionLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    serviceLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    continueServiceDeployment: async (input) => {
      continued.push(input);
      if (o.continueFails) throw Object.assign(new Error('hook not awaiting'), { name: 'InvalidParameterException' });
    },
  };
  return { ecs, continued };
}

/** Lambda's durable start: records each request; `fails` refuses it as Lambda would without permission. */
function fakeDurable(fails = false) {
  const starts: { functionArn: string; name: string; payload: unknown }[] = [];
  const port: DurableStartPort = {
    start: async (request) => {
      if (fails) throw Object.assign(new Error('not allowed to invoke'), { name: 'AccessDeniedException' });
      starts.push(request);
      return 'started';
    },
  };
  return { port, starts };
}

const durableArn = 'arn:aws:lambda:us-west-2:123456789012:function:greenlight-durable-analysis:live';

function trigger(ecs: EcsPort) {
  return ecsPauseGateTrigger({
    ecs,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    forwards: { forwardWeights: () => Promise.reject(new Error('no rule needed')) },
    clock,
    log: quietLog,
    settings: { region: 'us-west-2' },
  });
}

function gate(o: { plan: Plan; ecs: EcsPort; durable?: DurableStartPort; alarm?: 'OK' | 'ALARM' }) {
  return runGate(trigger(o.ecs), {
    loadPlan: async () => o.plan,
    checks: { clock, cloudwatch: cloudwatch(o.alarm ?? 'OK') },
    clock,
    log: quietLog,
    reserve: '200ms',
    ...(o.durable ? { durable: { functionArn: durableArn, port: o.durable } } : {}),
  });
}

const noChecks = alarmsPlan({ '*': 'none' });

describe('ECS PAUSE gate trigger (fake ports)', () => {
  describe('reading the event', () => {
    const t = trigger(fakeEcs().ecs);

    it('ignores, as malformed, an event that names no hook: ECS applies the hook timeout action', () => {
      const noHookId = { ...event, detail: { ...event.detail, hookId: undefined } };
      expect(t.read(noHookId)).toMatchObject({
        kind: 'ignored',
        malformed: true,
        reason: expect.stringMatching(/^malformed event: detail\.hookId/),
      });
      expect(t.read({ source: 'aws.s3' })).toMatchObject({ kind: 'ignored', malformed: true });
    });

    it('ignores a hook event that asks for no decision, or a hook that is not a PAUSE hook', () => {
      expect(t.read({ ...event, detail: { ...event.detail, eventName: 'HOOK_SUCCEEDED' } })).toMatchObject({
        kind: 'ignored',
        reason: 'eventName "HOOK_SUCCEEDED" needs no decision',
      });
      expect(t.read({ ...event, detail: { ...event.detail, hookType: 'AWS_LAMBDA' } })).toMatchObject({
        kind: 'ignored',
        reason: 'hookType "AWS_LAMBDA" is not a PAUSE hook',
      });
    });
  });

  it('calls ContinueServiceDeployment once with CONTINUE when the stage passes', async () => {
    const ecs = fakeEcs();
    const out = await gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ outcome: 'decided', hookId, action: 'CONTINUE' });
    expect(ecs.continued).toEqual([{ serviceDeploymentArn: deploymentArn, hookId, action: 'CONTINUE' }]);
  });

  it("calls ContinueServiceDeployment with ROLLBACK when ECS's stage fails its checks", async () => {
    const ecs = fakeEcs();
    const plan = alarmsPlan({ POST_TEST_TRAFFIC_SHIFT: 'alarms', PRE_PRODUCTION_TRAFFIC_SHIFT: 'none' });
    const out = await gate({ plan, ecs: ecs.ecs, alarm: 'ALARM' })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(ecs.continued).toEqual([{ serviceDeploymentArn: deploymentArn, hookId, action: 'ROLLBACK' }]);
  });

  it('runs the checks of the stage ECS reports when the event names none', async () => {
    const ecs = fakeEcs({ stage: 'PRE_PRODUCTION_TRAFFIC_SHIFT' });
    const plan = alarmsPlan({ POST_TEST_TRAFFIC_SHIFT: 'none', PRE_PRODUCTION_TRAFFIC_SHIFT: 'alarms' });
    const noStage = { ...event, detail: { ...event.detail, lifecycleStage: undefined } };
    const out = await gate({ plan, ecs: ecs.ecs, alarm: 'ALARM' })(noStage, lambdaContext(5_000));
    expect(out.action).toBe('ROLLBACK');
  });

  for (const [name, o, reason] of [
    ['the hook is no longer awaiting action', { states: ['SUCCEEDED'] }, /the hook is SUCCEEDED, not AWAITING_ACTION/],
    ['the service deployment is gone', { deployment: 'missing' as const }, /the service deployment was not found/],
    ['the hook expired', { hook: { expiresAt: Date.now() - 1_000 } }, /the hook expired at .*ROLLBACK/],
    ['the deployment is no longer in progress', { deployment: { status: 'STOPPED' } }, /is STOPPED, not IN_PROGRESS/],
    [
      'the event names another stage than ECS reports',
      { stage: 'PRODUCTION_TRAFFIC_SHIFT' },
      /the event disagrees with ECS: the event names stage POST_TEST_TRAFFIC_SHIFT, ECS reports PRODUCTION_TRAFFIC_SHIFT/,
    ],
    [
      'ECS reports another hook type',
      { hook: { targetType: 'AWS_LAMBDA' } },
      /the event disagrees with ECS: hook .* is a AWS_LAMBDA hook, not a PAUSE hook/,
    ],
  ] as const) {
    it(`does nothing when ${name}: no ContinueServiceDeployment call`, async () => {
      const ecs = fakeEcs(o);
      const out = await gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000));
      expect(out.outcome).toBe('no-op');
      expect(out.reasons.join()).toMatch(reason);
      expect(ecs.continued).toEqual([]);
    });
  }

  it('rolls back, fail closed, when the hook cannot be confirmed with ECS', async () => {
    const ecs = fakeEcs({ describeFails: true });
    const out = await gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons.join()).toMatch(/^cannot confirm the hook awaits action: AccessDeniedException/);
  });

  it('rolls back when ECS reports the paused hook at a stage greenlight does not know', async () => {
    const ecs = fakeEcs({ stage: 'WARP_SPEED' });
    const noStage = { ...event, detail: { ...event.detail, lifecycleStage: undefined } };
    const out = await gate({ plan: noChecks, ecs: ecs.ecs })(noStage, lambdaContext(5_000));
    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons.join()).toMatch(/unknown lifecycle stage \(WARP_SPEED\)/);
  });

  it('does nothing when the hook was decided elsewhere while the checks ran', async () => {
    const ecs = fakeEcs({ states: ['AWAITING_ACTION', 'SUCCEEDED'] });
    const out = await gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000));
    expect(out).toMatchObject({ outcome: 'no-op', action: 'CONTINUE' });
    expect(ecs.continued).toEqual([]);
  });

  it('answers a refused ContinueServiceDeployment on a hook no longer awaiting as a duplicate delivery', async () => {
    const ecs = fakeEcs({ states: ['AWAITING_ACTION', 'AWAITING_ACTION', 'SUCCEEDED'], continueFails: true });
    const out = await gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000));
    expect(out.outcome).toBe('no-op');
    expect(ecs.continued).toHaveLength(1);
  });

  it('fails the invocation when ContinueServiceDeployment is refused on a hook that still awaits action', async () => {
    const ecs = fakeEcs({ continueFails: true });
    await expect(gate({ plan: noChecks, ecs: ecs.ecs })(event, lambdaContext(5_000))).rejects.toBeInstanceOf(
      ReportError,
    );
  });

  it("builds the context from ECS's deployment: stage, service, revision and its traffic weights", async () => {
    const t = trigger(fakeEcs().ecs);
    const input = t.read(event);
    const run = gateRun(noChecks);
    if ('kind' in input && input.kind === 'ignored') throw new Error('expected an awaiting hook');
    const opened = await t.open(input as never, run);
    if (opened.kind !== 'open') throw new Error(`expected the hook to open, got ${opened.kind}`);
    const context = await t.context(input as never, opened.hook, { key: '*', checks: [] }, run);
    expect(context).toMatchObject({
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      cluster: 'my-cluster',
      service: 'my-service',
      serviceArn,
      serviceDeploymentArn: deploymentArn,
      targetServiceRevisionArn: revision,
      testTrafficWeight: '100',
      productionTrafficWeight: '0',
    });
  });

  describe('an analysis longer than one invocation', () => {
    const long = alarmsPlan({ '*': 'alarms' }, 3, '10s');

    it('starts a durable execution named after the hook, with the hook ids only, deciding nothing', async () => {
      const ecs = fakeEcs();
      const durable = fakeDurable();
      const out = await gate({ plan: long, ecs: ecs.ecs, durable: durable.port })(event, lambdaContext(1_500));
      expect(out).toMatchObject({ outcome: 'analysis-started', hookId });
      expect(ecs.continued).toEqual([]);
      expect(durable.starts).toHaveLength(1);
      expect(durable.starts[0]).toMatchObject({
        functionArn: durableArn,
        name: expect.stringMatching(/^gl-ecs-pause-gate-/),
      });
      const payload = durable.starts[0]?.payload as { trigger: string; event: unknown };
      expect(payload.trigger).toBe('ecs-pause-gate');
      // The start event is read as the EventBridge event is, and names the hook and nothing else.
      expect(readPauseGateInput(payload.event)).toEqual({
        kind: 'awaiting',
        hook: { hookId, serviceDeploymentArn: deploymentArn },
      });
    });

    it('rolls back when the durable execution cannot be started: nobody would finish the analysis', async () => {
      const ecs = fakeEcs();
      const out = await gate({ plan: long, ecs: ecs.ecs, durable: fakeDurable(true).port })(
        event,
        lambdaContext(1_500),
      );
      expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
      expect(out.reasons.join()).toMatch(/not allowed to invoke/);
    });

    it('rolls back, naming GREENLIGHT_DURABLE_FUNCTION, when no durable function is configured', async () => {
      const ecs = fakeEcs();
      const out = await gate({ plan: long, ecs: ecs.ecs })(event, lambdaContext(1_500));
      expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
      expect(out.reasons.join()).toMatch(/GREENLIGHT_DURABLE_FUNCTION/);
    });

    it("rolls back, before any measurement, a schedule that cannot end before the hook's expiresAt", async () => {
      const ecs = fakeEcs({ hook: { expiresAt: Date.now() + 20_000 } });
      const durable = fakeDurable();
      const out = await gate({ plan: long, ecs: ecs.ecs, durable: durable.port })(event, lambdaContext(1_500));
      expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
      expect(out.reasons.join()).toMatch(/must have its verdict within/);
      expect(durable.starts).toEqual([]);
    });
  });
});
