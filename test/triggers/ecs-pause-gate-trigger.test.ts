import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EcsHookAction, EcsLifecycleHookDetail, EcsPort, EcsServiceDeployment } from '../../lib/aws/ecs.ts';
import type { AsyncInvokePort } from '../../lib/aws/lambda-async.ts';
import type { StateKeyPort } from '../../lib/aws/state-key.ts';
import { ReportError } from '../../lib/gate/deliver.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { continuationKey } from '../../lib/triggers/ecs/event.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { alarmsPlan, clock, cloudwatch, gateRun, quietLog, stateKey } from '../support/trigger-fakes.ts';

/**
 * The ECS PAUSE gate trigger with fake ports, in memory: which events it takes, how it confirms with
 * DescribeServiceDeployments that the hook awaits action, which stage's checks it runs, how it hands a
 * long analysis to its next invocation, and the ContinueServiceDeployment call it makes. The lifecycle
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

function fakeInvoker(fails = false) {
  const sent: { arn: string; payload: Record<string, unknown> }[] = [];
  const invoker: AsyncInvokePort = {
    invokeAsync: async (arn, payload) => {
      if (fails) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      sent.push({ arn, payload: payload as Record<string, unknown> });
    },
  };
  return { invoker, sent };
}

function trigger(ecs: EcsPort, invoker: AsyncInvokePort = fakeInvoker().invoker, key: StateKeyPort = stateKey) {
  return ecsPauseGateTrigger({
    ecs,
    invoker,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    forwards: { forwardWeights: () => Promise.reject(new Error('no rule needed')) },
    stateKey: key,
    clock,
    log: quietLog,
    settings: { region: 'us-west-2' },
  });
}

function gate(o: { plan: Plan; ecs: EcsPort; invoker?: AsyncInvokePort; alarm?: 'OK' | 'ALARM' }) {
  return runGate(trigger(o.ecs, o.invoker), {
    loadPlan: async () => o.plan,
    checks: { clock, cloudwatch: cloudwatch(o.alarm ?? 'OK') },
    clock,
    log: quietLog,
    reserve: '200ms',
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

    it('hands the analysis to an asynchronous invocation of itself, with sealed state, deciding nothing', async () => {
      const ecs = fakeEcs();
      const inv = fakeInvoker();
      const context = lambdaContext(1_500);
      const out = await gate({ plan: long, ecs: ecs.ecs, invoker: inv.invoker })(event, context);
      expect(out).toMatchObject({ outcome: 'continued-later', hookId });
      expect(ecs.continued).toEqual([]);
      expect(inv.sent).toHaveLength(1);
      expect(inv.sent[0]?.arn).toBe(context.invokedFunctionArn);
      expect(inv.sent[0]?.payload[continuationKey]).toMatchObject({
        hookId,
        serviceDeploymentArn: deploymentArn,
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        state: { legs: 1, mac: expect.any(String) },
      });
    });

    it('resumes from its own continuation, counting on', async () => {
      const ecs = fakeEcs();
      const inv = fakeInvoker();
      await gate({ plan: long, ecs: ecs.ecs, invoker: inv.invoker })(event, lambdaContext(1_500));
      const again = await gate({ plan: long, ecs: ecs.ecs, invoker: inv.invoker })(
        inv.sent[0]?.payload,
        lambdaContext(1_500),
      );
      expect(again.outcome).toBe('continued-later');
      expect(inv.sent[1]?.payload[continuationKey]).toMatchObject({ state: { legs: 2 } });
    });

    it('rolls back on a continuation whose state was altered', async () => {
      const ecs = fakeEcs();
      const inv = fakeInvoker();
      await gate({ plan: long, ecs: ecs.ecs, invoker: inv.invoker })(event, lambdaContext(1_500));
      const c = inv.sent[0]?.payload[continuationKey] as Record<string, Record<string, unknown>>;
      const forged = { [continuationKey]: { ...c, state: { ...c.state, legs: 4 } } };
      const out = await gate({ plan: long, ecs: ecs.ecs, invoker: inv.invoker })(forged, lambdaContext(1_500));
      expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
      expect(out.reasons.join()).toMatch(/state\.mac does not verify/);
      expect(ecs.continued.map((x) => x.action)).toEqual(['ROLLBACK']);
    });

    it('rolls back when the analysis cannot be handed on: nobody would finish it', async () => {
      const ecs = fakeEcs();
      const out = await gate({ plan: long, ecs: ecs.ecs, invoker: fakeInvoker(true).invoker })(
        event,
        lambdaContext(1_500),
      );
      expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
      expect(out.reasons.join()).toMatch(/^cannot continue the analysis in a new invocation/);
    });
  });
});
