import { readFileSync } from 'node:fs';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DurableOutcome } from '../../lib/gate/durable.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type BlueGreenRules, createBlueGreenRules } from '../../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type EcsFake, type NativeDeployment, startEcsFake } from '../../local/fakes/ecs.ts';
import { type LambdaAsyncFake, startLambdaAsyncFake } from '../../local/fakes/lambda-async.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/ecs-pause-gate/index.ts')['handler'];
type Analyse = typeof import('../../functions/durable-analysis/index.ts')['analyse'];

const plan = `
version: 1
hooks:
  POST_TEST_TRAFFIC_SHIFT: [green-health]
  PRE_PRODUCTION_TRAFFIC_SHIFT: [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    count: 3
    interval: 50ms
`;
const functionName = 'greenlight-ecs-pause-gate';
/** The durable function's alias, as the template passes it in GREENLIGHT_DURABLE_FUNCTION. */
const durableArn = 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-analysis:live';
const samples = new URL('../fixtures/aws-samples/', import.meta.url);

let moto: Moto;
let ecs: EcsFake;
let lambda: LambdaAsyncFake;
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let rules: BlueGreenRules;
let handler: Handler;
let analyse: Analyse;

const context = (timeoutMs = 30_000) => lambdaContext(timeoutMs, functionName);

function deployment(o: Parameters<EcsFake['addNativeDeployment']>[0] = {}): NativeDeployment {
  return ecs.addNativeDeployment({
    loadBalancer: {
      targetGroupArn: lb.blueTargetGroupArn,
      alternateTargetGroupArn: lb.greenTargetGroupArn,
      productionListenerRule: rules.productionListenerRule,
      testListenerRule: rules.testListenerRule,
    },
    ...o,
  });
}

function paused(o: { stage?: string; expiresInMs?: number } = {}) {
  const d = deployment();
  const { hookId, event } = ecs.addPauseHook(d.serviceDeploymentArn, {
    lifecycleStage: o.stage ?? 'POST_TEST_TRAFFIC_SHIFT',
    ...(o.expiresInMs !== undefined ? { expiresInMs: o.expiresInMs } : {}),
  });
  return { d, hookId, event };
}

const decisionsFor = (hookId: string) =>
  ecs.callsOf('ContinueServiceDeployment').filter((c) => c.input.hookId === hookId);

function hookStatus(d: NativeDeployment, hookId: string): unknown {
  const details = ecs.serviceDeployment(d.serviceDeploymentArn)?.lifecycleHookDetails as Record<string, unknown>[];
  return details.find((h) => h.hookId === hookId)?.status;
}

/** Runs a durable start the entry function sent, on the durable function under LocalDurableTestRunner, as Lambda would. */
async function runDurable(payload: unknown): Promise<DurableOutcome> {
  const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(analyse) });
  const execution = await runner.run({ payload });
  return execution.getResult() as DurableOutcome;
}

beforeAll(async () => {
  [moto, green, blue, lambda] = await Promise.all([
    startMoto(),
    startHttpTarget(),
    startHttpTarget(),
    startLambdaAsyncFake(),
  ]);
  ecs = await startEcsFake({ fallback: moto.url });
  lb = await createLoadBalancer(moto.url, { name: 'gl-ecs-pause', prodPort: blue.port, testPort: green.port });
  rules = await createBlueGreenRules(moto.url, lb);
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_ECS = ecs.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.GREENLIGHT_DURABLE_FUNCTION = durableArn;
  ({ handler } = await import('../../functions/ecs-pause-gate/index.ts'));
  ({ analyse } = await import('../../functions/durable-analysis/index.ts'));
}, 60_000);

afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  await Promise.all([moto?.stop(), ecs?.close(), lambda?.close(), green?.close(), blue?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  delete process.env.GREENLIGHT_PLAN_FILE;
  delete process.env.GREENLIGHT_PLAN_PARAMETER;
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  green.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
  lambda.take();
});

describe('ecs-pause-gate, end to end with the real SDK', () => {
  it('runs the AWS sample event: a no-op for an unknown or expired hook, a decision for one awaiting action', async () => {
    const event = JSON.parse(
      readFileSync(new URL('../../events/ecs-pause-gate/hook-awaiting-action.json', import.meta.url), 'utf8'),
    );
    const described = JSON.parse(
      readFileSync(new URL('ecs-describe-service-deployments-lifecycleHookDetails.json', samples), 'utf8'),
    ) as { serviceDeployments: { lifecycleHookDetails: Record<string, unknown>[] }[] };
    const arn = event.detail.serviceDeploymentArn as string;
    const target = 'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900';

    const unknown = await handler(event, context());
    expect(unknown).toMatchObject({ outcome: 'no-op', reasons: ['the service deployment was not found'] });

    // The documented DescribeServiceDeployments answer, as ECS sends it on the wire (timestamps in epoch seconds).
    const hooks = (described.serviceDeployments[0]?.lifecycleHookDetails ?? []).map((h) => ({
      ...h,
      expiresAt: Date.parse(String(h.expiresAt)) / 1000,
    }));
    ecs.addServiceDeployment({
      serviceDeploymentArn: arn,
      serviceArn: event.detail.serviceArn,
      clusterArn: event.detail.clusterArn,
      status: 'IN_PROGRESS',
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      targetServiceRevision: { arn: target },
      lifecycleHookDetails: hooks,
    });
    // The sample shows a hook still AWAITING_ACTION past its expiry: ECS has not yet applied the timeout action.
    ecs.setTimeoutLag(Number.POSITIVE_INFINITY);
    const expired = await handler(event, context());
    ecs.setTimeoutLag(0);
    expect(expired.outcome).toBe('no-op');
    expect(expired.reasons[0]).toMatch(
      /expired at 2024-01-15T12:00:00.000Z; ECS applies its timeout action \(ROLLBACK\)/,
    );

    ecs.addServiceRevision({
      serviceRevisionArn: target,
      loadBalancers: [
        {
          targetGroupArn: lb.blueTargetGroupArn,
          advancedConfiguration: {
            alternateTargetGroupArn: lb.greenTargetGroupArn,
            productionListenerRule: rules.productionListenerRule,
            testListenerRule: rules.testListenerRule,
          },
        },
      ],
    });
    ecs.addServiceDeployment({
      serviceDeploymentArn: arn,
      serviceArn: event.detail.serviceArn,
      status: 'IN_PROGRESS',
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      targetServiceRevision: { arn: target },
      lifecycleHookDetails: hooks.map((h) => ({ ...h, expiresAt: Date.now() / 1000 + 600 })),
    });
    const decided = await handler(event, context());
    expect(decided).toMatchObject({ outcome: 'decided', action: 'CONTINUE' });
    expect(green.hits).toHaveLength(3);
    expect(ecs.decisions.get(event.detail.hookId)?.action).toBe('CONTINUE');
  });

  it('ignores the AWS samples of other ECS events without calling ECS', async () => {
    const before = ecs.calls.length;
    for (const name of [
      'eventbridge-ecs-deployment-state-change.json',
      'eventbridge-ecs-deployment-state-change-failed.json',
    ]) {
      const out = await handler(JSON.parse(readFileSync(new URL(name, samples), 'utf8')), context());

      expect(out.outcome, name).toBe('ignored');
      expect(out.reasons[0], name).toMatch(/not an ECS Hook State Change event/);
    }
    expect(ecs.calls.length).toBe(before);
  });

  it('continues the deployment when green passes', async () => {
    const { d, hookId, event } = paused();

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', hookId, action: 'CONTINUE' });
    expect(decisionsFor(hookId).map((c) => c.input)).toEqual([
      { serviceDeploymentArn: d.serviceDeploymentArn, hookId, action: 'CONTINUE' },
    ]);
    expect(hookStatus(d, hookId)).toBe('SUCCEEDED');
    expect(green.hits).toHaveLength(3);
  });

  it('rolls back, explicitly, when green fails', async () => {
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const { d, hookId, event } = paused();

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons.join('\n')).toMatch(/green-health: fail: .*status 500/);
    expect(decisionsFor(hookId).map((c) => c.input.action)).toEqual(['ROLLBACK']);
    expect(ecs.serviceDeployment(d.serviceDeploymentArn)?.status).toBe('ROLLBACK_REQUESTED');
  });

  it('decides once when EventBridge delivers the same event twice at the same time', async () => {
    const { hookId, event } = paused();

    const outs = await Promise.all([handler(event, context()), handler(structuredClone(event), context())]);

    expect(outs.map((o) => o.outcome).sort()).toEqual(['decided', 'no-op']);
    expect(ecs.decisions.get(hookId)?.action).toBe('CONTINUE');
    expect(decisionsFor(hookId).filter((c) => c.input.action === 'CONTINUE').length).toBeGreaterThanOrEqual(1);
  });

  it('treats a later duplicate as a logged no-op without probing or calling ECS again', async () => {
    const { hookId, event } = paused();
    await handler(event, context());
    green.hits.length = 0;

    const again = await handler(event, context());

    expect(again).toMatchObject({ outcome: 'no-op', reasons: ['the hook is SUCCEEDED, not AWAITING_ACTION'] });
    expect(decisionsFor(hookId)).toHaveLength(1);
    expect(green.hits).toHaveLength(0);
  });

  it('leaves an expired pause hook to its timeout action, whether or not ECS has applied it yet', async () => {
    const timedOut = paused({ expiresInMs: -1_000 });
    ecs.setTimeoutLag(60_000);
    const lagging = paused({ expiresInMs: -1_000 });

    const outs = [await handler(lagging.event, context())];
    ecs.setTimeoutLag(0);
    outs.push(await handler(timedOut.event, context()));

    expect(outs.map((o) => o.outcome)).toEqual(['no-op', 'no-op']);
    expect(outs[0]?.reasons[0]).toMatch(/expired at .*timeout action \(ROLLBACK\)/);
    expect(outs[1]?.reasons[0]).toBe('the hook is TIMED_OUT, not AWAITING_ACTION');
    expect(decisionsFor(lagging.hookId)).toHaveLength(0);
    expect(decisionsFor(timedOut.hookId)).toHaveLength(0);
    expect(green.hits).toHaveLength(0);
  });

  it('does nothing for a deployment that is no longer in progress', async () => {
    const { d, hookId, event } = paused();
    ecs.setDeploymentStatus(d.serviceDeploymentArn, 'STOPPED');

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'no-op', reasons: ['the service deployment is STOPPED, not IN_PROGRESS'] });
    expect(decisionsFor(hookId)).toHaveLength(0);
  });

  it('does not act when the hook was decided elsewhere while the checks ran', async () => {
    green.respond((_req, res) => {
      setTimeout(() => res.end('ok'), 150);
    });
    process.env.GREENLIGHT_PLAN = plan.replace('count: 3', 'count: 1');
    const { d, hookId, event } = paused();
    const running = handler(event, context());
    await new Promise((r) => setTimeout(r, 60));
    const details = ecs.serviceDeployment(d.serviceDeploymentArn)?.lifecycleHookDetails as Record<string, unknown>[];
    Object.assign(details.find((h) => h.hookId === hookId) ?? {}, { status: 'SUCCEEDED' });

    const out = await running;

    expect(out).toMatchObject({ outcome: 'no-op', action: 'CONTINUE' });
    expect(decisionsFor(hookId)).toHaveLength(0);
  });

  it('runs a schedule longer than one invocation on the durable function, which decides once', async () => {
    process.env.GREENLIGHT_PLAN = plan
      .replace('count: 3', 'count: 5')
      .replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const { hookId, event, d } = paused();

    const first = await handler(event, context(1_000));
    const again = await handler({ ...event, id: 'redelivered' }, context(1_000));
    const [start, another] = lambda.take();

    expect(first).toMatchObject({ outcome: 'analysis-started', hookId });
    expect(again).toMatchObject({ outcome: 'analysis-started', hookId });
    // One execution, named after the hook: the redelivery sent the same name and payload and started nothing.
    expect(lambda.durableStarts.slice(-2).map((s) => s.outcome)).toEqual(['started', 'existing']);
    expect(another).toBeUndefined();
    expect(start).toMatchObject({ functionName: durableArn, invocationType: 'Event' });
    expect(start?.payload).toEqual({
      v: 1,
      trigger: 'ecs-pause-gate',
      event: {
        source: 'aws.ecs',
        'detail-type': 'ECS Hook State Change',
        detail: {
          eventName: 'HOOK_AWAITING_ACTION',
          hookType: 'PAUSE',
          hookId,
          serviceDeploymentArn: d.serviceDeploymentArn,
        },
      },
    });
    expect(decisionsFor(hookId)).toHaveLength(0);

    const durable = await runDurable(start?.payload);

    expect(durable).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'CONTINUE' });
    expect(green.hits).toHaveLength(5);
    expect(decisionsFor(hookId).map((c) => c.input.action)).toEqual(['CONTINUE']);
  });

  it('rolls back when it cannot start the durable execution', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    lambda.failNext({ type: 'AccessDeniedException', status: 403, message: 'not allowed to invoke' });
    const { hookId, event } = paused();

    const out = await handler(event, context(1_000));

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/not allowed to invoke/);
    expect(decisionsFor(hookId)).toHaveLength(1);
  });

  it('rolls back naming the field when the plan is invalid', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('interval: 50ms', 'interval: often');
    const { event } = paused();

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/checks.green-health.interval: expected a duration/);
    expect(green.hits).toHaveLength(0);
  });

  it('rolls back naming the stage when the plan has no entry for it', async () => {
    const { event } = paused({ stage: 'POST_SCALE_UP' });

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/no entry for POST_SCALE_UP/);
  });

  it('rolls back, failing closed, when the hook state cannot be read', async () => {
    const { hookId, event } = paused();
    ecs.failNext('DescribeServiceDeployments', { type: 'AccessDeniedException', message: 'denied' }, 1);

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/cannot confirm the hook awaits action: AccessDeniedException/);
    expect(decisionsFor(hookId).map((c) => c.input.action)).toEqual(['ROLLBACK']);
  });

  it('does not take a deployment ECS could not describe for a missing one: it rolls back', async () => {
    const { d, hookId, event } = paused();
    ecs.describeFailures.set(d.serviceDeploymentArn, { reason: 'ACCESS_DENIED', detail: 'not yours' });

    const out = await handler(event, context());
    ecs.describeFailures.delete(d.serviceDeploymentArn);

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/DescribeServiceDeployments failed: ACCESS_DENIED: not yours/);
    expect(decisionsFor(hookId).map((c) => c.input.action)).toEqual(['ROLLBACK']);
  });

  it('retries a throttled ContinueServiceDeployment until ECS takes it', async () => {
    const { hookId, event } = paused();
    ecs.failNext('ContinueServiceDeployment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'decided', action: 'CONTINUE' });
    expect(decisionsFor(hookId)).toHaveLength(4);
    expect(ecs.decisions.get(hookId)?.action).toBe('CONTINUE');
  });

  it('throws loudly when ContinueServiceDeployment is denied for a hook still awaiting, so Lambda retries', async () => {
    const { hookId, event } = paused();
    ecs.failNext('ContinueServiceDeployment', { type: 'AccessDeniedException', message: 'not allowed' }, 1);

    await expect(handler(event, context())).rejects.toThrow(/AccessDenied/);
    expect(ecs.decisions.has(hookId)).toBe(false);
  });

  it('ignores events that need no decision or name no hook', async () => {
    const { event } = paused();

    const other = await handler({ ...event, detail: { ...event.detail, eventName: 'HOOK_SUCCEEDED' } }, context());
    const broken = await handler({ ...event, detail: { ...event.detail, hookId: undefined } }, context());

    expect(other.outcome).toBe('ignored');
    expect(broken).toMatchObject({ outcome: 'ignored' });
    expect(broken.reasons[0]).toMatch(/detail.hookId/);
  });

  it('sent an explicit CONTINUE or ROLLBACK in every ContinueServiceDeployment request', () => {
    const calls = ecs.callsOf('ContinueServiceDeployment');

    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) expect(['CONTINUE', 'ROLLBACK']).toContain(call.input.action);
  });
});

describe('ecs-pause-gate: a payload never approves a deployment', () => {
  it('does nothing when a hand-made event names a stage the plan maps to [] and ECS reports another', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('hooks:\n', 'hooks:\n  POST_SCALE_UP: []\n');
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const { d, hookId, event } = paused({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    const forged = { ...event, detail: { ...event.detail, lifecycleStage: 'POST_SCALE_UP' } };

    const out = await handler(forged, context());

    expect(out).toMatchObject({ outcome: 'no-op', hookId });
    expect(out.reasons[0]).toBe(
      'the event disagrees with ECS: the event names stage POST_SCALE_UP, ECS reports POST_TEST_TRAFFIC_SHIFT',
    );
    expect(decisionsFor(hookId)).toHaveLength(0);
    expect(hookStatus(d, hookId)).toBe('AWAITING_ACTION');
    // The real event is still decided, on the stage's own checks.
    const real = await handler(event, context());
    expect(real).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
  });

  it('decides nothing on a durable start sent directly for a hook ECS says is not awaiting: the execution asks ECS', async () => {
    const { d, hookId } = paused();
    const details = ecs.serviceDeployment(d.serviceDeploymentArn)?.lifecycleHookDetails as Record<string, unknown>[];
    Object.assign(details.find((h) => h.hookId === hookId) ?? {}, { status: 'SUCCEEDED' });

    const durable = await runDurable({
      v: 1,
      trigger: 'ecs-pause-gate',
      event: {
        source: 'aws.ecs',
        'detail-type': 'ECS Hook State Change',
        detail: { eventName: 'HOOK_AWAITING_ACTION', hookId, serviceDeploymentArn: d.serviceDeploymentArn },
      },
    });

    expect(durable).toMatchObject({ result: 'closed', reasons: ['the hook is SUCCEEDED, not AWAITING_ACTION'] });
    expect(decisionsFor(hookId)).toHaveLength(0);
    expect(green.hits).toHaveLength(0);
  });

  it('does nothing for an event naming a hook ECS reports as not a PAUSE hook, or another service', async () => {
    const lambdaHook = paused();
    const details = ecs.serviceDeployment(lambdaHook.d.serviceDeploymentArn)?.lifecycleHookDetails as Record<
      string,
      unknown
    >[];
    Object.assign(details.find((h) => h.hookId === lambdaHook.hookId) ?? {}, { targetType: 'AWS_LAMBDA' });
    const other = paused();
    const elsewhere = {
      ...other.event,
      detail: { ...other.event.detail, serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/other/other-service' },
    };

    const outs = [await handler(lambdaHook.event, context()), await handler(elsewhere, context())];

    expect(outs.map((o) => o.outcome)).toEqual(['no-op', 'no-op']);
    expect(outs[0]?.reasons[0]).toMatch(/is a AWS_LAMBDA hook, not a PAUSE hook/);
    expect(outs[1]?.reasons[0]).toMatch(/the event names service .*, ECS reports/);
    expect(decisionsFor(lambdaHook.hookId)).toHaveLength(0);
    expect(decisionsFor(other.hookId)).toHaveLength(0);
    expect(green.hits).toHaveLength(0);
  });

  it('does nothing for a PAUSE event whose hook ECS says is not awaiting action', async () => {
    const { d, hookId, event } = paused();
    const details = ecs.serviceDeployment(d.serviceDeploymentArn)?.lifecycleHookDetails as Record<string, unknown>[];
    Object.assign(details.find((h) => h.hookId === hookId) ?? {}, { status: 'IN_PROGRESS' });

    const out = await handler(event, context());

    expect(out).toMatchObject({ outcome: 'no-op', reasons: ['the hook is IN_PROGRESS, not AWAITING_ACTION'] });
    expect(decisionsFor(hookId)).toHaveLength(0);
    expect(green.hits).toHaveLength(0);
  });
});
