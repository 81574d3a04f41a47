import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import {
  type CodeDeployFake,
  ecsDeployment,
  lambdaDeployment,
  startCodeDeployFake,
} from '../../local/fakes/codedeploy.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/codedeploy-hook/index.ts')['handler'];

const issuePlan = `
version: 1
hooks:
  AfterAllowTestTraffic: [green-health]
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    expect:
      status: [200]
    count: 3
    interval: 100ms
`;

let moto: Moto;
let codedeploy: CodeDeployFake;
/** ECS DescribeTaskSets, as the tests set it per deployment (what greenlight asks when labels are missing). */
let ecs: JsonFake;
const taskSets = new Map<string, { id: string; externalId?: string }>();
let green: HttpTarget;
let blue: HttpTarget;
let lb: LocalLoadBalancer;
let handler: Handler;
let seq = 0;

/** A fresh deployment id of CodeDeploy's form, and an ECS deployment for it in the fake. */
function newEcsDeployment(overrides: Partial<Parameters<typeof ecsDeployment>[0]> = {}): string {
  seq++;
  const deploymentId = `d-${String(seq).padStart(9, '0')}`;
  codedeploy.addDeployment(
    ecsDeployment({
      deploymentId,
      hook: 'AfterAllowTestTraffic',
      testListenerArn: lb.testListenerArn,
      prodListenerArn: lb.prodListenerArn,
      ...overrides,
    }),
  );
  return deploymentId;
}

function event(deploymentId: string, executionId = `exec-${deploymentId}`) {
  return { DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId };
}

beforeAll(async () => {
  [moto, codedeploy, green, blue] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startHttpTarget(),
    startHttpTarget(),
  ]);
  ecs = await startJsonFake({
    operations: {
      DescribeTaskSets: (input) => ({
        taskSets: ((input.taskSets as string[] | undefined) ?? []).flatMap((id) => taskSets.get(id) ?? []),
        failures: [],
      }),
    },
  });
  lb = await createLoadBalancer(moto.url, { name: 'gl-e2e', prodPort: blue.port, testPort: green.port });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  process.env.AWS_ENDPOINT_URL_ECS = ecs.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/codedeploy-hook/index.ts'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), codedeploy?.close(), ecs?.close(), green?.close(), blue?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = issuePlan;
  delete process.env.GREENLIGHT_PLAN_FILE;
  delete process.env.GREENLIGHT_PLAN_PARAMETER;
  delete process.env.GREENLIGHT_HOOK;
  delete process.env.GREENLIGHT_REPORT_RESERVE;
  green.respond((_req, res) => res.end('ok'));
  blue.respond((_req, res) => res.end('ok'));
  green.hits.length = 0;
});

describe('codedeploy-hook, end to end with the real SDK', () => {
  it('reports Succeeded once when green answers every probe of the issue plan', async () => {
    const id = newEcsDeployment();

    const out = await handler(event(id), lambdaContext());

    expect(out).toMatchObject({ status: 'Succeeded', delivery: 'reported', hook: 'AfterAllowTestTraffic' });
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Succeeded');
    expect(
      codedeploy.callsOf('PutLifecycleEventHookExecutionStatus').filter((c) => c.input.deploymentId === id),
    ).toHaveLength(1);
    expect(green.hits).toEqual(['/health', '/health', '/health']);
  });

  it('reports Failed at the first failing probe, before the schedule ends', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace('count: 3', 'count: 20').replace('interval: 100ms', 'interval: 1s');
    green.respond((_req, res) => {
      res.statusCode = 503;
      res.end('unavailable');
    });
    const id = newEcsDeployment();
    const started = Date.now();

    const out = await handler(event(id), lambdaContext(150_000));

    expect(out.status).toBe('Failed');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(green.hits).toHaveLength(1);
    expect(out.reasons.join('\n')).toMatch(/green-health: fail: .*status 503, expected 200/);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('fails closed when the probe cannot connect at all', async () => {
    const closed = await startHttpTarget();
    await closed.close();
    const lb2 = await createLoadBalancer(moto.url, {
      name: `gl-closed-${seq}`,
      prodPort: blue.port,
      testPort: closed.port,
    });
    process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1,${lb2.dnsName}=127.0.0.1`;
    const id = newEcsDeployment({ testListenerArn: lb2.testListenerArn });

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/error: .*connection refused/);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('reports Failed before the Lambda deadline when green hangs', async () => {
    // The measurement's timeout fits the invocation (a longer one would run on the durable function).
    process.env.GREENLIGHT_PLAN = issuePlan.replace('count: 3', 'count: 1\n    timeout: 1500ms');
    process.env.GREENLIGHT_REPORT_RESERVE = '1s';
    green.respond(() => {
      // Never answers.
    });
    const id = newEcsDeployment();
    const context = lambdaContext(3_000);

    const out = await handler(event(id), context);

    expect(out.status).toBe('Failed');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(out.reasons.join('\n')).toMatch(/timed out after 1500 ms/);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('fails closed, naming GREENLIGHT_DURABLE_FUNCTION, when the schedule cannot fit in the invocation and no durable function is set', async () => {
    // 3 measurements 5 s apart fit the hook's hour, not the 4 s this invocation has left
    process.env.GREENLIGHT_PLAN = issuePlan.replace('interval: 100ms', 'interval: 5s');
    const id = newEcsDeployment();

    const out = await handler(event(id), lambdaContext(4_000));

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(
      /longer than the [\d.]+ min this invocation has, and no durable function is configured \(GREENLIGHT_DURABLE_FUNCTION/,
    );
  });

  it('issue 11: fails a 60-minute bake before measuring, saying the limit in minutes', async () => {
    // `*` is the entry a plan cannot be refused for when parsed: the hook checks it before the first probe
    process.env.GREENLIGHT_PLAN = issuePlan
      .replace('  AfterAllowTestTraffic: [green-health]\n', '')
      .replace('count: 3', 'count: 61')
      .replace('interval: 100ms', 'interval: 1m');
    const id = newEcsDeployment();
    const before = green.hits.length;

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons).toEqual([
      expect.stringMatching(
        /^hooks\.\*: the schedule can take up to 60\.2 min \(green-health\), longer than the 59 min codedeploy-hook allows/,
      ),
    ]);
    expect(green.hits.length).toBe(before);
  });

  it('retries a throttled report until CodeDeploy takes it', async () => {
    const id = newEcsDeployment();
    codedeploy.failNext(
      'PutLifecycleEventHookExecutionStatus',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      4,
    );

    const out = await handler(event(id), lambdaContext());

    expect(out).toMatchObject({ status: 'Succeeded', delivery: 'reported' });
    expect(
      codedeploy.callsOf('PutLifecycleEventHookExecutionStatus').filter((c) => c.input.deploymentId === id),
    ).toHaveLength(5);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Succeeded');
  });

  it('treats an already-completed hook as a no-op on a duplicate delivery', async () => {
    const id = newEcsDeployment();
    await handler(event(id), lambdaContext());

    const again = await handler(event(id), lambdaContext());

    expect(again).toMatchObject({ status: 'Succeeded', delivery: 'already-completed' });
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Succeeded');
  });

  it('throws, loudly, when the report is denied, and never claims success', async () => {
    const id = newEcsDeployment();
    codedeploy.failNext(
      'PutLifecycleEventHookExecutionStatus',
      { type: 'AccessDeniedException', message: 'not allowed' },
      1,
    );

    await expect(handler(event(id), lambdaContext())).rejects.toThrow(/AccessDenied/);
    expect(codedeploy.hookStatuses.has(`exec-${id}`)).toBe(false);
  });

  it('reports Failed with the field named when the plan is invalid', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace('status: [200]', 'status: [700]');
    const id = newEcsDeployment();

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toContain('checks.green-health.expect.status[0]: expected an integer 100-599');
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
    expect(green.hits).toHaveLength(0);
  });

  it('reports Failed naming the hook and the plan keys when no entry applies', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace('  "*": [green-health]\n', '');
    const id = newEcsDeployment({ hook: 'BeforeInstall' });

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/no entry for BeforeInstall .*plan has: AfterAllowTestTraffic/);
  });

  it('passes an explicit empty list without probing', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace(
      'AfterAllowTestTraffic: [green-health]',
      'AfterAllowTestTraffic: []',
    );
    const id = newEcsDeployment();

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits).toHaveLength(0);
  });

  it('reports Failed when no plan is configured', async () => {
    delete process.env.GREENLIGHT_PLAN;
    const id = newEcsDeployment();

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/no plan configured/);
  });

  it('reports Failed when the deployment cannot be read', async () => {
    const id = newEcsDeployment();
    codedeploy.failNext('GetDeployment', { type: 'AccessDeniedException', message: 'denied' }, 1);

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/could not validate: .*denied/);
    expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('reports Failed for a malformed event whose ids can still be read', async () => {
    codedeploy.addDeployment(ecsDeployment({ deploymentId: 'not_a_deployment_id', hook: 'AfterAllowTestTraffic' }));

    const out = await handler(event('not_a_deployment_id'), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/malformed event/);
    expect(codedeploy.hookStatuses.get('exec-not_a_deployment_id')).toBe('Failed');
  });

  it('rejects an event without ids, since there is nothing to report to', async () => {
    await expect(handler({ hello: 'world' }, lambdaContext())).rejects.toThrow(/malformed event/);
  });

  it('never blocks a rollback deployment', async () => {
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const id = newEcsDeployment({ creator: 'autoRollback' });

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits).toHaveLength(0);
  });

  it('never blocks a rollback deployment, even when the plan cannot be read', async () => {
    process.env.GREENLIGHT_PLAN = 'version: 1\nhooks: [unclosed';
    const id = newEcsDeployment({ creator: 'autoRollback' });

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Succeeded');
    expect(green.hits).toHaveLength(0);
  });

  it('fails the hook on a plan that cannot be read when the deployment is no rollback', async () => {
    process.env.GREENLIGHT_PLAN = 'version: 1\nhooks: [unclosed';
    const id = newEcsDeployment({});

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/invalid plan/);
  });

  it.each(['AfterAllowTestTraffic', 'AfterAllowTraffic'])(
    'finds green, the task set this deployment created, when CodeDeploy omits the labels (%s)',
    async (hook) => {
      process.env.GREENLIGHT_PLAN = issuePlan.replace('/health', '/health?tg={{greenTargetGroup}}&ts={{greenTaskSet}}');
      const [blueId, greenId] = [`ecs-svc/1${seq + 1}`, `ecs-svc/2${seq + 1}`];
      const id = newEcsDeployment({
        hook,
        unlabelled: true,
        taskSets: { blue: { id: blueId }, green: { id: greenId } },
      });
      taskSets.set(blueId, { id: blueId, externalId: 'd-PREVIOUS0' });
      taskSets.set(greenId, { id: greenId, externalId: id });

      const out = await handler(event(id), lambdaContext());

      expect(out.status).toBe('Succeeded');
      expect(green.hits[0]).toBe(`/health?tg=tg-green&ts=${greenId}`);
    },
  );

  describe('compare at AfterAllowTraffic, where the production listener already routes to green', () => {
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

    it('reports Failed, probing neither listener, since the default blue is green there', async () => {
      process.env.GREENLIGHT_PLAN = comparePlan;
      blue.hits.length = 0;
      const id = newEcsDeployment({ hook: 'AfterAllowTraffic' });

      const out = await handler(event(id), lambdaContext());

      expect(out.status).toBe('Failed');
      expect(out.reasons.join('\n')).toContain(
        'no blue baseline at AfterAllowTraffic: production traffic already reaches green',
      );
      expect(codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
      expect(blue.hits).toEqual([]);
      expect(green.hits).toEqual([]);
    });

    it('still compares at BeforeAllowTraffic, where the production listener serves only blue', async () => {
      process.env.GREENLIGHT_PLAN = comparePlan;
      blue.hits.length = 0;
      const id = newEcsDeployment({ hook: 'BeforeAllowTraffic' });

      const out = await handler(event(id), lambdaContext());

      expect(out.status).toBe('Succeeded');
      expect(blue.hits).toEqual(['/health', '/health', '/health']);
      expect(green.hits).toEqual(['/health', '/health', '/health']);
    });
  });

  it('never takes the PRIMARY task set for blue: with no labels and nothing from ECS, it reports Failed saying why', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace('/health', '/health?ts={{greenTaskSet}}');
    const [blueId, greenId] = [`ecs-svc/1${seq + 1}`, `ecs-svc/2${seq + 1}`];
    const id = newEcsDeployment({
      hook: 'AfterAllowTraffic',
      unlabelled: true,
      taskSets: { blue: { id: blueId }, green: { id: greenId } },
    });
    taskSets.set(blueId, { id: blueId });
    taskSets.set(greenId, { id: greenId });

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/\{\{greenTaskSet\}\} at AfterAllowTraffic: no fact singles out/);
    expect(green.hits).toHaveLength(0);
  });

  it('honours GREENLIGHT_HOOK over the hook in progress', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan.replace('  "*": [green-health]\n', '');
    process.env.GREENLIGHT_HOOK = 'AfterAllowTestTraffic';
    const id = newEcsDeployment({ hook: 'BeforeInstall' });

    const out = await handler(event(id), lambdaContext());

    expect(out).toMatchObject({ status: 'Succeeded', hook: 'AfterAllowTestTraffic' });
  });

  it('fills Lambda deployment placeholders for SAM PreTraffic hooks', async () => {
    process.env.GREENLIGHT_PLAN = `
version: 1
allow: { addresses: [loopback] }
hooks:
  PreTraffic: [smoke]
checks:
  smoke:
    type: http
    url: "${green.url}/smoke"
    headers:
      x-target: "{{functionName}}:{{alias}}:{{currentVersion}}->{{targetVersion}}"
`;
    let seen = '';
    green.respond((req, res) => {
      seen = String(req.headers['x-target']);
      res.end('ok');
    });
    seq++;
    const id = `d-${String(seq).padStart(9, '0')}`;
    codedeploy.addDeployment(
      lambdaDeployment({
        deploymentId: id,
        hook: 'BeforeAllowTraffic',
        functionName: 'orders',
        alias: 'live',
        currentVersion: '7',
        targetVersion: '8',
      }),
    );

    const out = await handler(event(id), lambdaContext());

    expect(out).toMatchObject({ status: 'Succeeded', hook: 'BeforeAllowTraffic' });
    expect(seen).toBe('orders:live:7->8');
  });

  it('reports Failed when a placeholder has no value for this deployment', async () => {
    process.env.GREENLIGHT_PLAN = issuePlan;
    seq++;
    const id = `d-${String(seq).padStart(9, '0')}`;
    codedeploy.addDeployment(lambdaDeployment({ deploymentId: id, hook: 'AfterAllowTraffic' }));

    const out = await handler(event(id), lambdaContext());

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/testListenerUrl/);
  });
});
