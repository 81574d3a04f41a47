import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishTimeoutMs } from '../../lib/gate/observe.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type DeliveredEvent, type EventSink, routeEventsToQueue } from '../../local/event-bus.ts';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type EcsFake, lifecycleHookEvent, startEcsFake } from '../../local/fakes/ecs.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type ProtonFake, startProtonFake } from '../../local/fakes/proton.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Every function, through its real handler and the real SDK: the verdict it delivered is published as
 * one `Greenlight Verdict` event on the bus (moto_server, routed by a rule to a queue, as a team would
 * route it to chat) after the delivery, with EMF metrics on stdout; a failing, denied or hanging
 * PutEvents changes nothing about the verdict and holds it up by at most the publish timeout.
 */

type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

// Pinned with GREENLIGHT_RESOLVE: a name the operator sends to a chosen address, as in production.
const greenHost = 'green.verdict-events.test';
const headerSecret = 'header-secret-0a1b2c';
const querySecret = 'query-secret-3d4e5f';

let moto: Moto;
let events: JsonFake;
let sink: EventSink;
let codedeploy: CodeDeployFake;
let ecs: EcsFake;
let proton: ProtonFake;
let green: HttpTarget;
const handlers: Record<string, AnyHandler> = {};
let stdout: string[] = [];
let restoreStdout: (() => void) | undefined;
let seq = 0;
/** What the first invocation in this process wrote to stdout. */
let firstInvocation: string[] = [];

function plan(): string {
  return JSON.stringify({
    version: 1,
    hooks: { '*': ['green-health'] },
    checks: {
      'green-health': {
        type: 'http',
        url: `http://${greenHost}:${green.port}/health?token=${querySecret}`,
        headers: { Authorization: `Bearer ${headerSecret}` },
        count: 2,
        interval: '50ms',
      },
    },
  });
}

const failing = () =>
  green.respond((_req, res) => {
    res.statusCode = 503;
    res.end('unavailable');
  });

function nextId(): string {
  seq++;
  return `d-V${String(seq).padStart(8, '0')}`;
}

type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } } & Record<string, unknown>;

/** EMF documents written to stdout since the test began. */
function emf(written: string[] = stdout): Emf[] {
  return written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{"_aws"'))
    .map((l) => JSON.parse(l));
}

const callAt = (fake: JsonFake, operation: string): number | undefined => fake.callsOf(operation).at(-1)?.at;

/**
 * The events the rule delivered, once there are `n` (or after `timeoutMs`). The function gives PutEvents
 * 1 s; on a loaded machine moto_server can take longer and still take the event after the function
 * moved on, so the queue is read until it has them.
 */
async function eventsReceived(n: number, timeoutMs = 10_000): Promise<DeliveredEvent[]> {
  const out: DeliveredEvent[] = [];
  const until = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < until) {
    out.push(...(await sink.receive()));
    if (out.length < n) await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

interface Scenario {
  readonly fn: string;
  readonly prepare: () => { event: unknown; deliveredAt: () => number | undefined; expected: Record<string, unknown> };
}

const scenarios: Scenario[] = [
  {
    fn: 'codedeploy-hook',
    prepare: () => {
      failing();
      const deploymentId = nextId();
      codedeploy.addDeployment(ecsDeployment({ deploymentId, hook: 'AfterAllowTestTraffic' }));
      return {
        event: { DeploymentId: deploymentId, LifecycleEventHookExecutionId: `exec-${deploymentId}` },
        deliveredAt: () => callAt(codedeploy, 'PutLifecycleEventHookExecutionStatus'),
        expected: {
          stage: 'AfterAllowTestTraffic',
          group: 'AppECS-my-cluster-my-service/DgpECS-my-cluster-my-service',
          deploymentId,
          verdict: 'fail',
          decision: 'Failed',
          delivery: 'reported',
        },
      };
    },
  },
  {
    fn: 'ecs-lifecycle-hook',
    prepare: () => {
      const d = ecs.addNativeDeployment({ cluster: 'shop', service: `web-${++seq}` });
      return {
        event: lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'),
        // The answer is the return value: published just before returning, so no earlier delivery to compare.
        deliveredAt: () => 0,
        expected: {
          stage: 'POST_TEST_TRAFFIC_SHIFT',
          group: `shop/web-${seq}`,
          deploymentId: d.serviceDeploymentArn,
          verdict: 'pass',
          decision: 'SUCCEEDED',
          delivery: 'returned',
        },
      };
    },
  },
  {
    fn: 'ecs-pause-gate',
    prepare: () => {
      failing();
      const d = ecs.addNativeDeployment({ cluster: 'shop', service: `api-${++seq}` });
      const { hookId, event } = ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });
      return {
        event,
        deliveredAt: () => ecs.decisions.get(hookId)?.at,
        expected: {
          stage: 'POST_TEST_TRAFFIC_SHIFT',
          group: `shop/api-${seq}`,
          deploymentId: d.serviceDeploymentArn,
          verdict: 'fail',
          decision: 'ROLLBACK',
          delivery: 'decided',
        },
      };
    },
  },
  {
    fn: 'codedeploy-wait-gate',
    prepare: () => {
      const deploymentId = nextId();
      codedeploy.addDeployment(ecsDeployment({ deploymentId, readyWaitMinutes: 60, status: 'Ready' }));
      return {
        event: {
          source: 'aws.codedeploy',
          'detail-type': 'CodeDeploy Deployment State-change Notification',
          time: new Date().toISOString(),
          detail: { deploymentId, state: 'READY' },
        },
        deliveredAt: () => callAt(codedeploy, 'ContinueDeployment'),
        expected: {
          stage: 'READY_WAIT',
          group: 'AppECS-my-cluster-my-service/DgpECS-my-cluster-my-service',
          deploymentId,
          verdict: 'pass',
          decision: 'ContinueDeployment',
          delivery: 'continued',
        },
      };
    },
  },
  {
    fn: 'proton-pipeline-guard',
    prepare: () => {
      failing();
      const name = `svc${++seq}`;
      proton.addService(name, { deploymentStatus: 'IN_PROGRESS', deploymentId: `dep-${seq}` }, 'CANCELLED');
      return {
        event: {
          source: 'aws.proton',
          'detail-type': 'AWS Proton Service Pipeline Status Change',
          detail: { serviceName: name, status: 'IN_PROGRESS' },
        },
        deliveredAt: () => callAt(proton, 'CancelServicePipelineDeployment'),
        expected: {
          stage: 'ProtonPipeline',
          group: name,
          deploymentId: `dep-${seq}`,
          verdict: 'fail',
          decision: 'cancel',
          delivery: 'cancelled',
        },
      };
    },
  },
];

beforeAll(async () => {
  [moto, codedeploy, ecs, proton, green] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startEcsFake(),
    startProtonFake(),
    startHttpTarget(),
  ]);
  // EventBridge is moto_server's; the JSON fake in front records each call and can fault or delay it.
  events = await startJsonFake({ operations: {}, fallback: moto.url });
  sink = await routeEventsToQueue(moto.url, 'greenlight-verdicts', {
    source: ['greenlight'],
    'detail-type': ['Greenlight Verdict'],
  });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // Anything not pointed at a fake goes to a closed loopback port, never to AWS.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    AWS_ENDPOINT_URL_ECS: ecs.url,
    AWS_ENDPOINT_URL_PROTON: proton.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
    AWS_LAMBDA_FUNCTION_NAME: 'greenlight-under-test',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    GREENLIGHT_RESOLVE: `${greenHost}=127.0.0.1`,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // Read when the Metrics instance is made, at import: on here, unlike the rest of the suite.
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  for (const s of scenarios) {
    const mod = (await import(`../../functions/${s.fn}/index.ts`)) as { handler: AnyHandler };
    handlers[s.fn] = mod.handler;
  }
  // The first invocation of this process, as a cold Lambda environment runs it.
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan();
  process.env.GREENLIGHT_PUBLISH_VERDICTS = 'false';
  const deploymentId = nextId();
  codedeploy.addDeployment(ecsDeployment({ deploymentId, hook: 'AfterInstall' }));
  captureStdout();
  try {
    await handlers['codedeploy-hook']?.(
      { DeploymentId: deploymentId, LifecycleEventHookExecutionId: `exec-${deploymentId}` },
      lambdaContext(30_000, 'CodeDeployHook_cold'),
    );
  } finally {
    restoreStdout?.();
  }
  firstInvocation = stdout;
}, 60_000);

function captureStdout(): void {
  stdout = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = original;
  };
}

afterAll(async () => {
  await Promise.all([
    moto?.stop(),
    events?.close(),
    codedeploy?.close(),
    ecs?.close(),
    proton?.close(),
    green?.close(),
  ]);
});

beforeEach(async () => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan();
  process.env.GREENLIGHT_PUBLISH_VERDICTS = 'true';
  delete process.env.GREENLIGHT_EVENT_BUS;
  green.respond((_req, res) => res.end('ok'));
  await sink.receive();
  captureStdout();
});

afterEach(() => {
  restoreStdout?.();
});

describe('verdict events and metrics, end to end', () => {
  it.each(scenarios.map((s) => [s.fn, s] as const))(
    '%s publishes the verdict it delivered as one Greenlight Verdict event, after delivering it',
    async (fn, scenario) => {
      const { event, deliveredAt, expected } = scenario.prepare();

      await handlers[fn]?.(event, lambdaContext(30_000, `greenlight-${fn}`));

      const received = await eventsReceived(1);
      expect(received).toHaveLength(1);
      const [verdictEvent] = received;
      expect(verdictEvent).toMatchObject({ source: 'greenlight', 'detail-type': 'Greenlight Verdict' });
      expect(verdictEvent?.detail).toMatchObject({
        version: 1,
        function: fn,
        functionName: 'greenlight-under-test',
        ...expected,
      });
      const [check] = (verdictEvent?.detail.checks ?? []) as Record<string, unknown>[];
      expect(check).toMatchObject({
        name: 'green-health',
        kind: 'http',
        status: expected.verdict,
        counters: expect.objectContaining({ taken: expected.verdict === 'pass' ? 2 : 1 }),
      });
      if (expected.verdict === 'fail') {
        expect(verdictEvent?.detail.reasons).toEqual([expect.stringMatching(/green-health: fail: .*status 503/)]);
      }
      // What a failure notification says (template.yaml's FailureNotificationRule): in every function's event.
      expect(verdictEvent?.detail.notice).toEqual({
        title: `greenlight: ${expected.stage} of ${expected.group} ${expected.verdict === 'pass' ? 'passed' : 'failed'} (${expected.decision})`,
        deployment: expected.deploymentId,
        checks: expect.stringMatching(
          expected.verdict === 'pass' ? /^all 1 deciding checks passed$/ : /^green-health: fail: /,
        ),
        checksMarkdown: expect.stringMatching(/^• /),
      });
      // The reasons are the verdict's own, built log-safe: no header values, no query strings.
      const text = JSON.stringify(verdictEvent);
      expect(text).not.toContain(headerSecret);
      expect(text).not.toContain(querySecret);
      // Published only once the caller had the verdict.
      const published = callAt(events, 'PutEvents');
      expect(published).toBeGreaterThanOrEqual(deliveredAt() ?? Number.POSITIVE_INFINITY);
    },
  );

  it('writes EMF metrics for the verdict and each check, with no deployment id among the dimensions', async () => {
    const scenario = scenarios[0] as Scenario;
    const { event } = scenario.prepare();

    await handlers[scenario.fn]?.(event, lambdaContext());

    const docs = emf();
    const verdict = docs.find((d) => 'VerdictFailed' in d);
    const check = docs.find((d) => 'CheckFailed' in d);
    expect(verdict?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Greenlight',
        Dimensions: [['service', 'function', 'stage', 'group']],
        Metrics: [
          { Name: 'VerdictPassed', Unit: 'Count' },
          { Name: 'VerdictFailed', Unit: 'Count' },
          { Name: 'VerdictDuration', Unit: 'Milliseconds' },
        ],
      },
    ]);
    expect(verdict).toMatchObject({
      service: 'greenlight',
      function: 'codedeploy-hook',
      stage: 'AfterAllowTestTraffic',
      group: 'AppECS-my-cluster-my-service/DgpECS-my-cluster-my-service',
      VerdictPassed: 0,
      VerdictFailed: 1,
    });
    expect(check?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'function', 'group', 'check']]);
    expect(check).toMatchObject({ check: 'green-health', CheckFailed: 1, CheckPassed: 0, Measurements: 1 });
    const dimensionValues = docs.flatMap((d) =>
      d._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions.flat().map((name) => String(d[name]))),
    );
    expect(dimensionValues.some((v) => /^d-/.test(v) || v.includes('service-deployment'))).toBe(false);
    expect(docs.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions.flat()))).not.toContain(
      'deploymentId',
    );
  });

  it('counts a cold start on the first invocation of a process only', async () => {
    const { event } = (scenarios[0] as Scenario).prepare();

    await handlers['codedeploy-hook']?.(event, lambdaContext());

    const cold = emf(firstInvocation).filter((d) => 'ColdStart' in d);
    expect(cold).toEqual([
      expect.objectContaining({ ColdStart: 1, service: 'greenlight', function_name: 'CodeDeployHook_cold' }),
    ]);
    expect(cold[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'function_name']]);
    expect(emf().filter((d) => 'ColdStart' in d)).toEqual([]);
    expect(emf().some((d) => d.VerdictFailed === 1)).toBe(true);
  });

  describe('a PutEvents that fails does not change or hold up the verdict', () => {
    const scenario = scenarios[0] as Scenario;

    async function invokeWithFault(fault: () => void) {
      fault();
      const { event, deliveredAt } = scenario.prepare();
      const started = Date.now();
      const out = (await handlers[scenario.fn]?.(event, lambdaContext())) as { status: string; reasons: string[] };
      return { out, elapsed: Date.now() - started, deliveredAt: deliveredAt() as number };
    }

    it('still reports Failed once when EventBridge answers 500 to every attempt', async () => {
      const { out, deliveredAt } = await invokeWithFault(() =>
        events.failNext('PutEvents', { type: 'InternalFailure', status: 500 }, 3),
      );

      expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
      expect(out.reasons.join('\n')).toMatch(/status 503/);
      expect(callAt(events, 'PutEvents')).toBeGreaterThanOrEqual(deliveredAt);
      expect(await sink.receive()).toEqual([]);
    });

    it('still reports Failed once when PutEvents is denied', async () => {
      const { out, deliveredAt } = await invokeWithFault(() =>
        events.failNext('PutEvents', { type: 'AccessDeniedException', message: 'not authorized', status: 400 }),
      );

      expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
      expect(callAt(events, 'PutEvents')).toBeGreaterThanOrEqual(deliveredAt);
    });

    it('gives up on a hanging PutEvents after its own timeout, the report already made', async () => {
      const before = events.callsOf('PutEvents').length;
      const { out, elapsed, deliveredAt } = await invokeWithFault(() =>
        events.failNext('PutEvents', { type: 'InternalFailure', status: 500, delayMs: 15_000 }),
      );

      expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
      expect(events.callsOf('PutEvents').length).toBeGreaterThan(before);
      expect(callAt(events, 'PutEvents')).toBeGreaterThanOrEqual(deliveredAt);
      // The probe, the reads and the report take a few ms; the hang costs at most the publish timeout.
      expect(elapsed).toBeLessThan(publishTimeoutMs + 2_000);
    });

    it('publishes nothing, and still counts the verdict in metrics, with GREENLIGHT_PUBLISH_VERDICTS=false', async () => {
      process.env.GREENLIGHT_PUBLISH_VERDICTS = 'false';
      const before = events.callsOf('PutEvents').length;
      const { out } = await invokeWithFault(() => undefined);

      expect(out.status).toBe('Failed');
      expect(events.callsOf('PutEvents')).toHaveLength(before);
      expect(emf().some((d) => d.VerdictFailed === 1)).toBe(true);
    });
  });
});
