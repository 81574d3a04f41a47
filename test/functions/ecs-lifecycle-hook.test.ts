import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { canonicalJson, encodeState, planFingerprint } from '../../lib/triggers/carried-state.ts';
import { type BlueGreenRules, createBlueGreenRules } from '../../local/ecs-native-setup.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import {
  type EcsFake,
  lifecycleHookEvent,
  type NativeDeployment,
  type NativeDeploymentOptions,
  startEcsFake,
} from '../../local/fakes/ecs.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { createStateKeySecret, type LocalStateKey } from '../../local/state-key.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/ecs-lifecycle-hook/index.ts')['handler'];
type Response = Awaited<ReturnType<Handler>>;

const plan = `
version: 1
hooks:
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    count: 3
    interval: 50ms
`;

let moto: Moto;
let ecs: EcsFake;
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let rules: BlueGreenRules;
let handler: Handler;
let stateKey: LocalStateKey;
const keyBytes = () => new TextEncoder().encode(stateKey.key);

const sampleDir = new URL('../../events/ecs-lifecycle-hook/', import.meta.url);
const readSample = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, sampleDir), 'utf8')) as Record<string, unknown>;

function deployment(o: NativeDeploymentOptions = {}): NativeDeployment {
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

const context = (timeoutMs = 30_000) => lambdaContext(timeoutMs, 'greenlight-ecs-lifecycle-hook');

function result(out: Response): { verdict: string; reasons: string[] } {
  return out.hookDetails?.greenlightResult as { verdict: string; reasons: string[] };
}

/** Calls the hook as ECS does: again after each IN_PROGRESS, with the hookDetails it returned. */
async function untilDone(
  first: ReturnType<typeof lifecycleHookEvent>,
  timeoutMs: number,
  max = 10,
): Promise<{ answers: Response[]; last: Response }> {
  const answers: Response[] = [];
  let event: Record<string, unknown> = first;
  for (let i = 0; i < max; i++) {
    const out = await handler(event, context(timeoutMs));
    answers.push(out);
    if (out.hookStatus !== 'IN_PROGRESS') return { answers, last: out };
    expect(out.callBackDelay).toBeGreaterThanOrEqual(1);
    event = { ...first, hookDetails: out.hookDetails };
  }
  throw new Error(`still IN_PROGRESS after ${max} invocations`);
}

beforeAll(async () => {
  [moto, green, blue] = await Promise.all([startMoto(), startHttpTarget(), startHttpTarget()]);
  ecs = await startEcsFake({ fallback: moto.url });
  lb = await createLoadBalancer(moto.url, { name: 'gl-ecs-hook', prodPort: blue.port, testPort: green.port });
  rules = await createBlueGreenRules(moto.url, lb);
  stateKey = await createStateKeySecret(moto.url);
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.url;
  process.env.GREENLIGHT_STATE_KEY_SECRET_ARN = stateKey.secretArn;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_ECS = ecs.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/ecs-lifecycle-hook/index.ts'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), ecs?.close(), green?.close(), blue?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  delete process.env.GREENLIGHT_PLAN_FILE;
  delete process.env.GREENLIGHT_PLAN_PARAMETER;
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  green.respond((_req, res) => res.end('ok'));
  blue.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
  blue.hits.length = 0;
});

describe('ecs-lifecycle-hook, end to end with the real SDK', () => {
  it('answers every AWS sample payload with a valid hook status, after probing green', async () => {
    const sampleTarget =
      'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900';
    const loadBalancers = [
      {
        targetGroupArn: lb.blueTargetGroupArn,
        advancedConfiguration: {
          alternateTargetGroupArn: lb.greenTargetGroupArn,
          productionListenerRule: rules.productionListenerRule,
          testListenerRule: rules.testListenerRule,
        },
      },
    ];
    ecs.addServiceRevision({ serviceRevisionArn: sampleTarget, loadBalancers });
    ecs.addServiceDeployment({
      serviceDeploymentArn:
        'arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28',
      status: 'IN_PROGRESS',
    });
    const files = readdirSync(sampleDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(4);

    for (const file of files) {
      green.hits.length = 0;
      const out = await handler(readSample(file), context());

      expect(out.hookStatus, file).toBe('SUCCEEDED');
      expect(Object.keys(out).every((k) => ['hookStatus', 'callBackDelay', 'hookDetails'].includes(k))).toBe(true);
      expect(green.hits, file).toEqual(['/health', '/health', '/health']);
    }
  });

  it("answers IN_PROGRESS in the shape of the AWS response samples, passing the hook configuration's hookDetails through", async () => {
    const fixture = (name: string) =>
      JSON.parse(readFileSync(new URL(`../fixtures/aws-samples/${name}`, import.meta.url), 'utf8')) as Record<
        string,
        unknown
      >;
    const configured = fixture('ecs-native-lambda-hook-config.json');
    process.env.GREENLIGHT_PLAN = plan.replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();
    const stage = (configured.lifecycleStages as string[])[0] as string;

    const out = await handler(
      lifecycleHookEvent(d, stage, { hookDetails: configured.hookDetails as Record<string, unknown> }),
      context(1_000),
    );

    const typesOf = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]));
    const sample = fixture('ecs-native-hook-response-with-hookDetails.json');
    expect(typesOf(out as unknown as Record<string, unknown>)).toEqual(typesOf(sample));
    expect(Object.keys(fixture('ecs-native-hook-response.json')).every((k) => k in out)).toBe(true);
    expect(out.hookStatus).toBe(sample.hookStatus);
    expect(out.hookDetails).toMatchObject(configured.hookDetails as Record<string, unknown>);
  });

  it('answers SUCCEEDED when green is healthy, probing the test listener of the advancedConfiguration', async () => {
    const d = deployment();

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(result(out)).toEqual({ verdict: 'pass', reasons: ['all 1 deciding checks passed'] });
    expect(green.hits).toHaveLength(3);
    expect(blue.hits).toHaveLength(0);
  });

  it('answers FAILED with the reason when green fails', async () => {
    green.respond((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const d = deployment();

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).verdict).toBe('fail');
    expect(result(out).reasons.join('\n')).toMatch(/green-health: fail: .*status 503/);
    expect(green.hits).toHaveLength(1);
  });

  it('resumes a schedule longer than one invocation from hookDetails, measuring each step once', async () => {
    process.env.GREENLIGHT_PLAN = plan
      .replace('count: 3', 'count: 5')
      .replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();
    const first = lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT', {
      hookDetails: { S3_BUCKET_NAME: 'my-approval-bucket' },
    });

    const { answers, last } = await untilDone(first, 1_000);

    expect(last.hookStatus).toBe('SUCCEEDED');
    expect(answers.length).toBeGreaterThanOrEqual(2);
    expect(green.hits).toHaveLength(5);
    const progress = answers[0] as Response;
    expect(progress).toMatchObject({
      hookStatus: 'IN_PROGRESS',
      hookDetails: { S3_BUCKET_NAME: 'my-approval-bucket' },
    });
    expect(JSON.stringify(progress.hookDetails).length).toBeLessThan(4_000);
  });

  it('fails a resumed analysis when a later step fails, counting earlier steps', async () => {
    process.env.GREENLIGHT_PLAN = plan
      .replace('count: 3', 'count: 4\n    failureLimit: 1')
      .replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    let n = 0;
    green.respond((_req, res) => {
      n++;
      res.statusCode = n === 1 || n >= 3 ? 500 : 200;
      res.end();
    });
    const d = deployment();

    const { answers, last } = await untilDone(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), 1_000);

    expect(answers[0]?.hookStatus).toBe('IN_PROGRESS');
    expect(last.hookStatus).toBe('FAILED');
    expect(result(last).reasons.join('\n')).toMatch(/2 failed \(failureLimit 1\)/);
  });

  it('fails closed on tampered, foreign, oversized or expired state in hookDetails', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();
    const first = lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT');
    const progress = await handler(first, context(1_000));
    expect(progress.hookStatus).toBe('IN_PROGRESS');
    const state = progress.hookDetails?.greenlightState as Record<string, unknown>;
    const checks = Object.values(parsePlan({ version: 1, hooks: {}, checks: {} }).checks);
    const expired = encodeState(
      { analysis: { startedAt: Date.now() - 60_000, checks: {} }, deadline: Date.now() - 1_000, legs: 1 },
      { fingerprint: planFingerprint(checks, 'POST_TEST_TRAFFIC_SHIFT'), bind: 'x' },
      keyBytes(),
    );
    const cases: [string, unknown, RegExp][] = [
      ['tampered', { ...state, legs: 7 }, /state\.mac does not verify/],
      ['not an object', 'give me a pass', /state: expected an object/],
      ['oversized', { ...state, padding: 'x'.repeat(20_000) }, /larger than 16384 bytes/],
      ['from another plan', expired, /another plan/],
    ];
    for (const [name, greenlightState, message] of cases) {
      green.hits.length = 0;
      const out = await handler({ ...first, hookDetails: { greenlightState } }, context());

      expect(out.hookStatus, name).toBe('FAILED');
      expect(result(out).reasons.join('\n'), name).toMatch(message);
      expect(green.hits, name).toHaveLength(0);
    }
  });

  it('fails, never another IN_PROGRESS, once the carried deadline has passed', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');
    const d = deployment();
    const first = lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT');
    const parsed = parsePlan({
      version: 1,
      hooks: { '*': ['green-health'] },
      checks: {
        'green-health': {
          type: 'http',
          url: '{{testListenerUrl}}/health',
          count: 3,
          interval: '400ms',
          timeout: '300ms',
        },
      },
    });
    const checks = Object.values(parsed.checks);
    const binding = {
      fingerprint: planFingerprint(checks, 'POST_TEST_TRAFFIC_SHIFT'),
      bind: `${d.serviceDeploymentArn}|POST_TEST_TRAFFIC_SHIFT`,
    };
    const startedAt = Date.now() - 5_000;
    const running = {
      taken: 1,
      passes: 1,
      failures: 0,
      errors: 0,
      inconclusives: 0,
      consecutivePasses: 1,
      consecutiveErrors: 0,
      status: 'running' as const,
      reason: '',
      nextAt: Date.now(),
      recent: [],
    };
    const state = (deadline: number) =>
      encodeState(
        { analysis: { startedAt, checks: { 'green-health': running } }, deadline, legs: 1 },
        binding,
        keyBytes(),
      );

    const past = await handler({ ...first, hookDetails: { greenlightState: state(Date.now() - 1) } }, context());
    const tooSoon = await handler({ ...first, hookDetails: { greenlightState: state(Date.now() + 500) } }, context());

    expect(past.hookStatus).toBe('FAILED');
    expect(result(past).reasons.join('\n')).toMatch(/deadline passed/);
    expect(tooSoon.hookStatus).toBe('FAILED');
    expect(result(tooSoon).reasons.join('\n')).toMatch(/cannot finish before the analysis deadline/);
  });

  it('never blocks a rollback: traffic shifting back from the target answers SUCCEEDED at once', async () => {
    process.env.GREENLIGHT_PLAN = 'not: [a valid plan';
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const d = deployment();
    const weights = { [d.targetServiceRevisionArn]: 0, [d.sourceServiceRevisionArn]: 100 };

    const prod = await handler(
      lifecycleHookEvent(d, 'PRODUCTION_TRAFFIC_SHIFT', { productionTrafficWeights: weights }),
      context(),
    );
    const test = await handler(lifecycleHookEvent(d, 'TEST_TRAFFIC_SHIFT', { testTrafficWeights: weights }), context());

    for (const out of [prod, test]) {
      expect(out.hookStatus).toBe('SUCCEEDED');
      expect(result(out)).toMatchObject({ verdict: 'skipped' });
      expect(result(out).reasons[0]).toMatch(/rollback in progress, not blocked: .* traffic shifts away/);
    }
    expect(green.hits).toHaveLength(0);
  });

  it('never blocks a rollback the deployment status shows when the weights are empty', async () => {
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const d = deployment({ status: 'ROLLBACK_IN_PROGRESS' });

    const out = await handler(lifecycleHookEvent(d, 'PRODUCTION_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(result(out).reasons[0]).toMatch(/ROLLBACK_IN_PROGRESS/);
    expect(green.hits).toHaveLength(0);
  });

  it('validates a forward production shift as usual', async () => {
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const d = deployment();
    const weights = { [d.targetServiceRevisionArn]: 100, [d.sourceServiceRevisionArn]: 0 };

    const out = await handler(
      lifecycleHookEvent(d, 'PRODUCTION_TRAFFIC_SHIFT', { productionTrafficWeights: weights }),
      context(),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(green.hits.length).toBeGreaterThan(0);
  });

  describe('compare after production traffic shifted, where the production listener routes to green', () => {
    const comparePlan = `
version: 1
hooks:
  "*": [green-vs-blue]
checks:
  green-vs-blue:
    type: compare
    path: /health
    samples: 3
    count: 1
    consecutiveErrorLimit: 0
`;
    const weights = (d: NativeDeployment) => ({ [d.targetServiceRevisionArn]: 100, [d.sourceServiceRevisionArn]: 0 });

    it('answers FAILED at POST_PRODUCTION_TRAFFIC_SHIFT, probing neither listener: no blue baseline', async () => {
      process.env.GREENLIGHT_PLAN = comparePlan;
      const d = deployment({ lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT' });

      const out = await handler(
        lifecycleHookEvent(d, 'POST_PRODUCTION_TRAFFIC_SHIFT', { productionTrafficWeights: weights(d) }),
        context(),
      );

      expect(out.hookStatus).toBe('FAILED');
      expect(result(out).reasons.join('\n')).toContain(
        'no blue baseline at POST_PRODUCTION_TRAFFIC_SHIFT: production traffic already reaches green',
      );
      expect(blue.hits).toEqual([]);
      expect(green.hits).toEqual([]);
    });

    it('still compares at POST_TEST_TRAFFIC_SHIFT, before production shifts', async () => {
      process.env.GREENLIGHT_PLAN = comparePlan;
      const d = deployment();

      const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

      expect(out.hookStatus).toBe('SUCCEEDED');
      expect(blue.hits).toHaveLength(3);
      expect(green.hits).toHaveLength(3);
    });
  });

  it("prefers the plan in the service's hookDetails over the function's", async () => {
    delete process.env.GREENLIGHT_PLAN;
    const d = deployment();
    const servicePlan = plan.replace('/health', '/ready').replace('count: 3', 'count: 1');

    const out = await handler(
      lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT', { hookDetails: { greenlightPlan: servicePlan } }),
      context(),
    );
    const asObject = await handler(
      lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT', {
        hookDetails: {
          greenlightPlan: {
            version: 1,
            hooks: { POST_TEST_TRAFFIC_SHIFT: ['ok'] },
            checks: { ok: { type: 'http', url: '{{testListenerUrl}}/object' } },
          },
        },
      }),
      context(),
    );

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(asObject.hookStatus).toBe('SUCCEEDED');
    expect(green.hits).toEqual(['/ready', '/object']);
  });

  it('names the field of an invalid plan in hookDetails', async () => {
    const d = deployment();

    const out = await handler(
      lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT', {
        hookDetails: { greenlightPlan: plan.replace('count: 3', 'count: -1') },
      }),
      context(),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons[0]).toMatch(
      /hookDetails.greenlightPlan: checks.green-health.count: must be at least 1, got -1/,
    );
  });

  it('fills the ECS placeholders: target groups from the listener rules, weights, names', async () => {
    process.env.GREENLIGHT_PLAN = `
version: 1
hooks:
  PRE_PRODUCTION_TRAFFIC_SHIFT: [ctx]
checks:
  ctx:
    type: http
    url: "{{testListenerUrl}}/ctx?green={{greenTargetGroup}}&blue={{blueTargetGroup}}&w={{productionTrafficWeight}}&s={{cluster}}/{{service}}/{{lifecycleStage}}"
`;
    const d = deployment({ cluster: 'shop', service: 'web' });
    const weights = { [d.targetServiceRevisionArn]: 0, [d.sourceServiceRevisionArn]: 100 };

    const out = await handler(
      lifecycleHookEvent(d, 'PRE_PRODUCTION_TRAFFIC_SHIFT', { productionTrafficWeights: weights }),
      context(),
    );

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(green.hits).toEqual([
      '/ctx?green=gl-ecs-hook-green&blue=gl-ecs-hook-blue&w=0&s=shop/web/PRE_PRODUCTION_TRAFFIC_SHIFT',
    ]);
  });

  it('reads the load balancer from the service when the revision has none', async () => {
    const d = deployment({ loadBalancerOnServiceOnly: true, cluster: 'legacy', service: 'api' });

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('SUCCEEDED');
    expect(green.hits).toHaveLength(3);
  });

  it('answers FAILED naming the missing listener rule', async () => {
    const d = ecs.addNativeDeployment({
      loadBalancer: { targetGroupArn: lb.blueTargetGroupArn, productionListenerRule: rules.productionListenerRule },
    });

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons[0]).toMatch(/no testListenerRule/);
  });

  it('answers FAILED when ECS cannot be read', async () => {
    const d = deployment();
    ecs.failNext('DescribeServiceRevisions', { type: 'AccessDeniedException', message: 'not allowed' }, 1);

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons[0]).toMatch(/could not validate: .*not allowed/);
  });

  it('answers FAILED with the reason for a payload it cannot understand', async () => {
    for (const event of [
      { hello: 'world' },
      'not json',
      null,
      { ...readSample('test-traffic-shift.json'), lifecycleStage: 'DEPLOY' },
    ]) {
      const out = await handler(event, context());

      expect(out.hookStatus).toBe('FAILED');
      expect(result(out).reasons[0]).toMatch(/^malformed event: /);
    }
  });

  it('answers FAILED when no plan is configured', async () => {
    delete process.env.GREENLIGHT_PLAN;
    const d = deployment();

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context());

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons[0]).toMatch(/no plan configured/);
  });

  it('answers FAILED when a check timeout can never fit in one invocation', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 3', 'count: 1\n    timeout: 10s');
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();

    const out = await handler(lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT'), context(1_500));

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons[0]).toMatch(/timeout \(10000 ms\) is longer than one invocation/);
  });
});

describe('ecs-lifecycle-hook: hookDetails state is authenticated', () => {
  const slowPlan = () => plan.replace('interval: 50ms', 'interval: 400ms\n    timeout: 300ms');

  it('answers FAILED, never SUCCEEDED, on hookDetails state whose plain digest the sender recomputed', async () => {
    process.env.GREENLIGHT_PLAN = slowPlan();
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();
    const first = lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT');
    const progress = await handler(first, context(1_000));
    const real = progress.hookDetails?.greenlightState as Record<string, unknown>;
    const now = Date.now();
    const passed = { taken: 3, passes: 3, failures: 0, errors: 0, inconclusives: 0, consecutivePasses: 3 };
    const body = {
      v: 1,
      plan: real.plan,
      bind: real.bind,
      startedAt: now - 1_000,
      deadline: now + 600_000,
      legs: 1,
      checks: { 'green-health': { ...passed, consecutiveErrors: 0, nextAt: now, recent: [] } },
    };
    const digest = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
    green.hits.length = 0;

    const out = await handler({ ...first, hookDetails: { greenlightState: { ...body, digest } } }, context());
    const v2 = await handler(
      { ...first, hookDetails: { greenlightState: { ...body, v: 2, mac: digest + digest } } },
      context(),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons.join('\n')).toMatch(/state\.v: expected 2/);
    expect(v2.hookStatus).toBe('FAILED');
    expect(result(v2).reasons.join('\n')).toMatch(/state\.mac does not verify/);
    expect(green.hits).toHaveLength(0);
  });

  it('answers FAILED on state sealed for another deployment', async () => {
    process.env.GREENLIGHT_PLAN = slowPlan();
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const a = deployment();
    const b = deployment();
    const progress = await handler(lifecycleHookEvent(a, 'POST_TEST_TRAFFIC_SHIFT'), context(1_000));
    const stateOfA = progress.hookDetails?.greenlightState;

    const out = await handler(
      { ...lifecycleHookEvent(b, 'POST_TEST_TRAFFIC_SHIFT'), hookDetails: { greenlightState: stateOfA } },
      context(),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(result(out).reasons.join('\n')).toMatch(/state\.bind: the state belongs to another deployment/);
  });

  it('answers FAILED, naming the setting, when the state key cannot be read', async () => {
    process.env.GREENLIGHT_PLAN = slowPlan();
    process.env.GREENLIGHT_REPORT_RESERVE = '100ms';
    const d = deployment();
    const first = lifecycleHookEvent(d, 'POST_TEST_TRAFFIC_SHIFT');
    const progress = await handler(first, context(1_000));
    process.env.GREENLIGHT_STATE_KEY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf';

    const resumed = await handler({ ...first, hookDetails: progress.hookDetails }, context()).finally(() => {
      process.env.GREENLIGHT_STATE_KEY_SECRET_ARN = stateKey.secretArn;
    });

    expect(progress.hookStatus).toBe('IN_PROGRESS');
    expect(resumed.hookStatus).toBe('FAILED');
    expect(result(resumed).reasons.join('\n')).toMatch(/cannot read the state key \(GREENLIGHT_STATE_KEY_SECRET_ARN\)/);
  });
});
