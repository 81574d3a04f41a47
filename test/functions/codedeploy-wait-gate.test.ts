import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, seal } from '../../lib/gate/carried-state.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import type { WaitOutcome } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type LambdaInvokeRecorder, startLambdaInvokeRecorder } from '../../local/fakes/lambda-invoke-recorder.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { createStateKeySecret, type LocalStateKey } from '../../local/state-key.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/codedeploy-wait-gate/index.ts')['handler'];

const functionName = 'greenlight-codedeploy-wait-gate';
const functionArn = `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`;

const plan = `
version: 1
hooks:
  ReadyWait: [green-ready]
  TerminationWait: [prod-bake]
checks:
  green-ready:
    type: http
    url: "{{testListenerUrl}}/ready"
    count: 2
    interval: 100ms
    timeout: 300ms
  prod-bake:
    type: http
    url: "{{prodListenerUrl}}/bake?service={{service}}"
    count: 3
    interval: 100ms
    timeout: 300ms
`;

let moto: Moto;
let codedeploy: CodeDeployFake;
let lambda: LambdaInvokeRecorder;
let test: HttpTarget;
let prod: HttpTarget;
let lb: LocalLoadBalancer;
let handler: Handler;
let seq = 0;
let stateKey: LocalStateKey;

function newDeployment(overrides: Partial<Parameters<typeof ecsDeployment>[0]> = {}): string {
  seq++;
  const deploymentId = `d-WAIT${String(seq).padStart(5, '0')}`;
  codedeploy.addDeployment(
    ecsDeployment({
      deploymentId,
      testListenerArn: lb.testListenerArn,
      prodListenerArn: lb.prodListenerArn,
      readyWaitMinutes: 60,
      terminationWaitMinutes: 60,
      ...overrides,
    }),
  );
  return deploymentId;
}

/** A deployment state-change event as EventBridge delivers it: the verbatim sample with this deployment's values. */
function stateChange(deploymentId: string, state: string, time = new Date().toISOString()) {
  const sample = JSON.parse(readFileSync('events/codedeploy-wait-gate/deployment-success.json', 'utf8')) as Record<
    string,
    unknown
  > & { detail: Record<string, unknown> };
  return { ...sample, time, detail: { ...sample.detail, deploymentId, state } };
}

function statusOf(id: string): unknown {
  return codedeploy.deployment(id)?.deploymentInfo.status;
}

function callsFor(operation: string, id: string) {
  return codedeploy.callsOf(operation).filter((c) => c.input.deploymentId === id);
}

/** Runs the event, then every continuation the function queues for itself, as Lambda would. */
async function drive(first: unknown, invocationMs = 10_000, maxSteps = 40): Promise<WaitOutcome[]> {
  const outcomes: WaitOutcome[] = [];
  let next: unknown = first;
  for (let step = 0; next !== undefined; step++) {
    if (step >= maxSteps) throw new Error(`still continuing after ${maxSteps} invocations`);
    outcomes.push(await handler(next, lambdaContext(invocationMs, functionName)));
    const queued = lambda.take();
    expect(queued.length).toBeLessThanOrEqual(1);
    if (queued[0]) {
      expect(queued[0]).toMatchObject({ functionName: functionArn, invocationType: 'Event' });
    }
    next = queued[0]?.payload;
  }
  return outcomes;
}

beforeAll(async () => {
  [moto, codedeploy, lambda, test, prod] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startLambdaInvokeRecorder(),
    startHttpTarget(),
    startHttpTarget(),
  ]);
  lb = await createLoadBalancer(moto.url, { name: 'gl-waits', prodPort: prod.port, testPort: test.port });
  stateKey = await createStateKeySecret(moto.url);
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.url;
  process.env.GREENLIGHT_STATE_KEY_SECRET_ARN = stateKey.secretArn;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/codedeploy-wait-gate/index.ts'));
}, 60_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), codedeploy?.close(), lambda?.close(), test?.close(), prod?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  process.env.GREENLIGHT_REPORT_RESERVE = '500ms';
  process.env.GREENLIGHT_WAIT_POLL_INTERVAL = '100ms';
  delete process.env.GREENLIGHT_WAIT_WATCH_LIMIT;
  test.respond((_req, res) => res.end('ok'));
  prod.respond((_req, res) => res.end('ok'));
  test.hits.length = 0;
  prod.hits.length = 0;
  lambda.take();
});

describe('codedeploy-wait-gate: READY_WAIT, end to end with the real SDK', () => {
  it('continues the ready wait once when the ReadyWait checks pass', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ wait: 'READY_WAIT', verdict: 'pass', result: 'continued' });
    expect(test.hits).toEqual(['/ready', '/ready']);
    expect(callsFor('ContinueDeployment', id).map((c) => c.input)).toEqual([
      { deploymentId: id, deploymentWaitType: 'READY_WAIT' },
    ]);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
    expect(statusOf(id)).toBe('InProgress');
  });

  it('stops with rollback at the first failing ReadyWait measurement', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2', 'count: 30');
    test.respond((_req, res) => {
      res.statusCode = 503;
      res.end('no');
    });
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/green-ready: fail: .*503/);
    expect(test.hits).toHaveLength(1);
    expect(callsFor('StopDeployment', id).map((c) => c.input)).toEqual([
      { deploymentId: id, autoRollbackEnabled: true },
    ]);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
    expect(statusOf(id)).toBe('Stopped');
  });

  it('lets a concurrent duplicate that finishes after the first decision do nothing, even with the opposite verdict', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2', 'count: 1');
    // The first delivery's probe passes at once; the duplicate's probe answers 500, but only after the first decided.
    let probes = 0;
    test.respond((_req, res) => {
      probes++;
      if (probes === 1) {
        res.end('ok');
        return;
      }
      setTimeout(() => {
        res.statusCode = 500;
        res.end('flaky');
      }, 250);
    });
    const event = stateChange(id, 'READY');

    const outcomes = await Promise.all([
      handler(event, lambdaContext(10_000, functionName)),
      handler(event, lambdaContext(10_000, functionName)),
    ]);

    // Whichever delivery probed first decided; the other found the wait closed.
    const first = outcomes.find((o) => o.result === 'continued');
    const duplicate = outcomes.find((o) => o !== first);
    expect(first).toMatchObject({ verdict: 'pass', result: 'continued' });
    expect(duplicate).toMatchObject({ verdict: 'fail', result: 'not-waiting' });
    expect(duplicate?.reasons[0]).toMatch(/another delivery of this event decided first/);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
    expect(statusOf(id)).toBe('InProgress');
  });

  it('treats a second READY delivery after the decision as a logged no-op', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    const event = stateChange(id, 'READY');
    await drive(event);
    test.hits.length = 0;

    const [again] = await drive(event);

    expect(again).toMatchObject({ result: 'not-waiting' });
    expect(again?.reasons[0]).toMatch(/InProgress, not in its READY_WAIT/);
    expect(test.hits).toHaveLength(0);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
  });

  it('treats DeploymentIsNotInReadyStateException from ContinueDeployment as a logged no-op', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    codedeploy.failNext('ContinueDeployment', { type: 'DeploymentIsNotInReadyStateException', message: 'not ready' });

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'pass', result: 'not-ready' });
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
  });

  it('treats DeploymentAlreadyCompletedException from ContinueDeployment as a logged no-op', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    codedeploy.failNext('ContinueDeployment', { type: 'DeploymentAlreadyCompletedException', message: 'done' });

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'pass', result: 'already-completed' });
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
  });

  it('treats DeploymentAlreadyCompletedException from StopDeployment as a logged no-op', async () => {
    test.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const id = newDeployment();
    codedeploy.becomeReady(id);
    codedeploy.failNext('StopDeployment', { type: 'DeploymentAlreadyCompletedException', message: 'done' });

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'fail', result: 'already-completed' });
    expect(callsFor('StopDeployment', id).map((c) => c.input.autoRollbackEnabled)).toEqual([true]);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
  });

  it('retries a throttled ContinueDeployment until CodeDeploy takes it', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    codedeploy.failNext('ContinueDeployment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 4);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ result: 'continued' });
    expect(callsFor('ContinueDeployment', id)).toHaveLength(5);
    expect(statusOf(id)).toBe('InProgress');
  });

  it('throws, loudly, when the decision is denied, and never claims it was delivered', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    codedeploy.failNext('ContinueDeployment', { type: 'AccessDeniedException', message: 'not allowed' });

    await expect(handler(stateChange(id, 'READY'), lambdaContext(10_000, functionName))).rejects.toThrow(
      /AccessDenied/,
    );
    expect(statusOf(id)).toBe('Ready');
  });

  it('stops with rollback, naming the field, when the plan is invalid', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2', 'count: -1');
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/checks\.green-ready\.count: must be at least 1, got -1/);
    expect(test.hits).toHaveLength(0);
  });

  it('stops with rollback when the ReadyWait schedule cannot finish before the ready wait times out', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 100\n    interval: 1s');
    const id = newDeployment({ readyWaitMinutes: 1 });
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/ReadyWait schedule takes up to .* ready wait \(1 min\) leaves about/);
    expect(test.hits).toHaveLength(0);
  });

  it('counts the ready wait from now when the event is older than the wait itself', async () => {
    const id = newDeployment({ readyWaitMinutes: 60 });
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY', '2016-06-30T22:06:31Z'));

    expect(out).toMatchObject({ verdict: 'pass', result: 'continued' });
  });

  it('never blocks a rollback deployment', async () => {
    test.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const id = newDeployment({ creator: 'autoRollback' });
    codedeploy.becomeReady(id);

    const [out] = await drive(stateChange(id, 'READY'));

    expect(out).toMatchObject({ verdict: 'pass', result: 'continued' });
    expect(test.hits).toHaveLength(0);
  });

  it('carries a long ReadyWait analysis across invocations and decides once', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const outcomes = await drive(stateChange(id, 'READY'), 1_600);

    expect(outcomes.length).toBeGreaterThan(1);
    expect(outcomes.slice(0, -1).every((o) => o.result === 'resumes-later')).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ verdict: 'pass', result: 'continued' });
    expect(test.hits).toHaveLength(5);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
  });

  it('stops with rollback when the continuation cannot be queued', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);
    lambda.failNext({ type: 'AccessDeniedException', status: 403, message: 'not allowed to invoke' });

    const [out] = await drive(stateChange(id, 'READY'), 1_600);

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/could not hand the analysis on to the next invocation: .*not allowed/);
    expect(statusOf(id)).toBe('Stopped');
  });

  it('refuses an altered continuation and stops with rollback', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);
    await handler(stateChange(id, 'READY'), lambdaContext(1_600, functionName));
    const [queued] = lambda.take();
    type Counters = { taken: number; passes: number; consecutivePasses: number };
    const payload = queued?.payload as {
      greenlightWaitGateContinuation: { state: { checks: Record<string, Counters> } };
    };
    // A forged extra pass, as someone hoping to shorten the analysis might add.
    const counters = payload.greenlightWaitGateContinuation.state.checks['green-ready'];
    expect(counters).toBeDefined();
    if (counters) {
      counters.taken++;
      counters.passes++;
      counters.consecutivePasses++;
    }

    const [out] = await drive(payload);

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/continuation refused: .*mac does not verify/);
  });
});

describe('codedeploy-wait-gate: events that signal no wait', () => {
  it('runs the verbatim SUCCESS sample through as a no-op, without calling CodeDeploy', async () => {
    const before = codedeploy.calls.length;
    const sample = JSON.parse(readFileSync('events/codedeploy-wait-gate/deployment-success.json', 'utf8'));

    const [out] = await drive(sample);

    expect(out).toMatchObject({ deploymentId: 'd-123456789', result: 'ignored' });
    expect(codedeploy.calls.length).toBe(before);
  });

  it('ignores FAILURE and STOP, and instance state changes', async () => {
    const id = newDeployment();
    const instance = { ...stateChange(id, 'READY'), 'detail-type': 'CodeDeploy Instance State-change Notification' };

    const outcomes = [
      ...(await drive(stateChange(id, 'FAILURE'))),
      ...(await drive(stateChange(id, 'STOP'))),
      ...(await drive(instance)),
    ];

    expect(outcomes.map((o) => o.result)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(callsFor('GetDeployment', id)).toHaveLength(0);
  });

  it('rejects an event without a deployment id, since there is nothing to decide on', async () => {
    await expect(handler({ detail: { state: 'READY' } }, lambdaContext(5_000, functionName))).rejects.toThrow(
      /malformed event: detail\.deploymentId/,
    );
  });
});

describe('codedeploy-wait-gate: TERMINATION_WAIT, end to end with the real SDK', () => {
  it('watches from START, bakes on production traffic once the termination wait begins, then ends the wait early', async () => {
    const id = newDeployment({ service: 'orders' });

    const first = await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    expect(first).toMatchObject({ wait: 'TERMINATION_WAIT', result: 'resumes-later' });
    expect(prod.hits).toHaveLength(0);
    const [watch] = lambda.take();
    codedeploy.beginTerminationWait(id);

    const outcomes = await drive(watch?.payload);

    expect(outcomes.at(-1)).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'pass', result: 'continued' });
    expect(prod.hits).toEqual(['/bake?service=orders', '/bake?service=orders', '/bake?service=orders']);
    expect(callsFor('ContinueDeployment', id).map((c) => c.input.deploymentWaitType)).toEqual(['TERMINATION_WAIT']);
    expect(statusOf(id)).toBe('Succeeded');
  });

  it('stops with rollback while the original task set still exists when the bake fails', async () => {
    prod.respond((_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    const id = newDeployment();
    codedeploy.beginTerminationWait(id);

    const [out] = await drive(stateChange(id, 'START'));

    expect(out).toMatchObject({ wait: 'TERMINATION_WAIT', verdict: 'fail', result: 'stopping' });
    expect(callsFor('StopDeployment', id).map((c) => c.input)).toEqual([
      { deploymentId: id, autoRollbackEnabled: true },
    ]);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
  });

  it('makes a second watcher (a duplicate START) a no-op once the decision is made', async () => {
    const id = newDeployment();
    await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    const [duplicate] = lambda.take();
    codedeploy.beginTerminationWait(id);
    await drive(stateChange(id, 'START'));
    expect(statusOf(id)).toBe('Succeeded');
    prod.hits.length = 0;

    const outcomes = await drive(duplicate?.payload);

    expect(outcomes).toEqual([
      expect.objectContaining({ result: 'watch-ended', reasons: ['deployment is Succeeded'] }),
    ]);
    expect(prod.hits).toHaveLength(0);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
  });

  it('treats a bake continuation for a deployment no longer waiting as a no-op', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 3\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.beginTerminationWait(id);
    const first = await handler(stateChange(id, 'START'), lambdaContext(1_600, functionName));
    expect(first.result).toBe('resumes-later');
    const [bake] = lambda.take();
    const deployment = codedeploy.deployment(id);
    if (deployment) deployment.deploymentInfo.status = 'Succeeded';

    const outcomes = await drive(bake?.payload);

    expect(outcomes).toEqual([expect.objectContaining({ wait: 'TERMINATION_WAIT', result: 'not-waiting' })]);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
  });

  it('stops with rollback when the bake cannot fit in the termination wait', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 3\n    interval: 100ms', 'count: 100\n    interval: 1s');
    const id = newDeployment({ terminationWaitMinutes: 1 });
    codedeploy.beginTerminationWait(id);

    const [out] = await drive(stateChange(id, 'START'));

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/TerminationWait schedule takes up to .* termination wait \(1 min\)/);
    expect(prod.hits).toHaveLength(0);
  });

  it('does not watch a deployment without a termination wait', async () => {
    const id = newDeployment({ terminationWaitMinutes: 0 });

    const outcomes = await drive(stateChange(id, 'START'));

    expect(outcomes).toEqual([expect.objectContaining({ result: 'ignored' })]);
    expect(outcomes[0]?.reasons[0]).toMatch(/no termination wait configured/);
  });

  it('does not watch when the plan does not gate the termination wait', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('  TerminationWait: [prod-bake]\n', '');
    const id = newDeployment();

    const outcomes = await drive(stateChange(id, 'START'));

    expect(outcomes).toEqual([expect.objectContaining({ result: 'ignored' })]);
    expect(outcomes[0]?.reasons[0]).toMatch(/no TerminationWait entry/);
  });

  it('fails a watch loudly, for Lambda to retry, when the deployment cannot be read at all', async () => {
    const id = newDeployment();
    await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    const [watch] = lambda.take();
    codedeploy.failNext('GetDeployment', { type: 'AccessDeniedException', message: 'denied' });

    await expect(handler(watch?.payload, lambdaContext(1_500, functionName))).rejects.toThrow(/denied/);
    expect(lambda.take()).toHaveLength(0);
  });

  it('ends the watch when the deployment fails before its termination wait', async () => {
    const id = newDeployment();
    await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    const [watch] = lambda.take();
    const deployment = codedeploy.deployment(id);
    if (deployment) deployment.deploymentInfo.status = 'Failed';

    const outcomes = await drive(watch?.payload);

    expect(outcomes).toEqual([expect.objectContaining({ result: 'watch-ended', reasons: ['deployment is Failed'] })]);
  });
});

describe('codedeploy-wait-gate: template wiring', () => {
  it('subscribes to READY and START for the configured groups, with least-privilege decisions', async () => {
    const { readTemplate } = await import('../../local/template.ts');
    const template = await readTemplate();
    const fn = template.Resources.CodeDeployWaitGateFunction;
    const props = fn?.Properties as Record<string, unknown> & {
      Events: Record<string, { Type: string; Properties: { Pattern: Record<string, unknown> } }>;
      Policies: unknown[];
    };

    expect(fn?.Type).toBe('AWS::Serverless::Function');
    expect(fn?.Metadata?.BuildProperties).toMatchObject({ EntryPoints: ['functions/codedeploy-wait-gate/index.ts'] });
    expect(props.Handler).toBe('index.handler');
    expect(template.Resources.CodeDeployWaitGateLogGroup?.Properties?.RetentionInDays).toEqual({
      Ref: 'LogRetentionInDays',
    });
    const rule = Object.values(props.Events)[0];
    expect(rule?.Type).toBe('EventBridgeRule');
    expect(rule?.Properties.Pattern).toMatchObject({
      source: ['aws.codedeploy'],
      'detail-type': ['CodeDeploy Deployment State-change Notification'],
      detail: { state: ['READY', 'START'] },
    });
    const statements = JSON.stringify(props.Policies);
    expect(statements).toContain('codedeploy:ContinueDeployment');
    expect(statements).toContain('codedeploy:StopDeployment');
    expect(statements).toMatch(/deploymentgroup:\$\{WaitGateDeploymentGroups\}/);
    expect(statements).not.toMatch(/"codedeploy:\*"|"lambda:\*"/);
    expect(props.Policies).toContainEqual({ Ref: 'ChecksReadPolicy' });
  });

  it('keeps the legacy Proton guard out of the default deployment', async () => {
    const { readTemplate } = await import('../../local/template.ts');
    const template = (await readTemplate()) as Awaited<ReturnType<typeof readTemplate>> & {
      Outputs: Record<string, { Condition?: string }>;
    };

    expect(template.Parameters?.EnableProtonGuard?.Default).toBe('false');
    for (const name of ['ProtonPipelineGuardFunction', 'ProtonPipelineGuardLogGroup']) {
      expect((template.Resources[name] as { Condition?: string }).Condition).toBe('ProtonGuardEnabled');
    }
    expect(template.Outputs.ProtonPipelineGuardFunctionArn?.Condition).toBe('ProtonGuardEnabled');
    expect(template.Resources.ProtonPipelineGuardFunction?.Properties?.Policies).toContainEqual({
      Ref: 'ChecksReadPolicy',
    });
  });
});

/** A continuation sealed with the function's own key, as only greenlight can make one. */
function sealed(body: Record<string, unknown>, issuedAt = Date.now()) {
  return {
    greenlightWaitGateContinuation: seal(
      body,
      new TextEncoder().encode(stateKey.key),
      'codedeploy-wait-gate-continuation',
      issuedAt,
    ),
  };
}

describe('codedeploy-wait-gate: a payload never approves a deployment', () => {
  it('stops, never continues, a ready deployment on a bake continuation whose digest the sender recomputed', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    const now = Date.now();
    const body = {
      v: 1,
      plan: 'copied-from-a-real-continuation',
      bind: `${id}:READY_WAIT`,
      startedAt: now - 1_000,
      deadline: now + 600_000,
      legs: 1,
      checks: {
        'green-ready': {
          taken: 2,
          passes: 2,
          failures: 0,
          errors: 0,
          inconclusives: 0,
          consecutivePasses: 2,
          consecutiveErrors: 0,
          nextAt: now,
          recent: [],
        },
      },
    };
    const digest = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
    const forged = {
      greenlightWaitGateContinuation: {
        kind: 'codedeploy-wait-gate',
        v: 1,
        deploymentId: id,
        wait: 'READY_WAIT',
        phase: 'bake',
        hop: 1,
        since: now,
        state: { ...body, digest },
      },
    };

    const [out] = await drive(forged);

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/continuation refused: .*mac: missing or malformed/);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
    expect(test.hits).toHaveLength(0);
  });

  it('refuses a state from another deployment, sealed or not', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const a = newDeployment();
    const b = newDeployment();
    const c = newDeployment();
    for (const id of [a, b, c]) codedeploy.becomeReady(id);
    await handler(stateChange(a, 'READY'), lambdaContext(1_600, functionName));
    const [queued] = lambda.take();
    const ofA =
      (queued?.payload as { greenlightWaitGateContinuation: Record<string, unknown> } | undefined)
        ?.greenlightWaitGateContinuation ?? {};
    const { mac: _mac, issuedAt: _issuedAt, ...body } = ofA;

    const [repointed] = await drive({ greenlightWaitGateContinuation: { ...ofA, deploymentId: b } });
    const [resealed] = await drive(sealed({ ...body, deploymentId: c }));

    expect(repointed).toMatchObject({ deploymentId: b, verdict: 'fail', result: 'stopping' });
    expect(repointed?.reasons.join('\n')).toMatch(/mac does not verify/);
    expect(resealed).toMatchObject({ deploymentId: c, verdict: 'fail', result: 'stopping' });
    expect(resealed?.reasons.join('\n')).toMatch(/state\.bind: the state belongs to another deployment/);
    expect(callsFor('ContinueDeployment', b)).toHaveLength(0);
    expect(callsFor('ContinueDeployment', c)).toHaveLength(0);
  });

  it('never keeps watching on a watch continuation whose since is in the future', async () => {
    process.env.GREENLIGHT_WAIT_WATCH_LIMIT = '1m';
    const id = newDeployment();
    const future = Date.now() + 365 * 24 * 3_600_000;
    const unsealed = {
      greenlightWaitGateContinuation: {
        kind: 'codedeploy-wait-gate',
        v: 1,
        deploymentId: id,
        wait: 'TERMINATION_WAIT',
        phase: 'watch',
        hop: 0,
        since: future,
      },
    };
    const v2 = { kind: 'codedeploy-wait-gate', v: 2, deploymentId: id, wait: 'TERMINATION_WAIT', phase: 'watch' };

    const outcomes = [
      await handler(unsealed, lambdaContext(1_000, functionName)),
      await handler(sealed({ ...v2, hop: 0, since: future }), lambdaContext(1_000, functionName)),
    ];

    expect(outcomes.map((o) => o.result)).toEqual(['not-waiting', 'not-waiting']);
    expect(outcomes[1]?.reasons).toBeDefined();
    expect(lambda.take()).toHaveLength(0);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
  });

  it('refuses an expired continuation, and one issued in the future', async () => {
    const id = newDeployment();
    codedeploy.becomeReady(id);
    const v2 = { kind: 'codedeploy-wait-gate', v: 2, deploymentId: id, wait: 'READY_WAIT', phase: 'bake', hop: 1 };

    const [expired] = await drive(sealed({ ...v2, since: Date.now() - 7 * 3_600_000 }, Date.now() - 7 * 3_600_000));
    const id2 = newDeployment();
    codedeploy.becomeReady(id2);
    const [future] = await drive(sealed({ ...v2, deploymentId: id2, since: Date.now() }, Date.now() + 3_600_000));

    expect(expired).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(expired?.reasons.join('\n')).toMatch(/continuation expired: issued \d+ s ago/);
    expect(future).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(future?.reasons.join('\n')).toMatch(/issuedAt is in the future/);
  });

  it('does nothing for a READY event, or a forged continuation, when the deployment is not waiting', async () => {
    const id = newDeployment();

    const outcomes = [
      ...(await drive(stateChange(id, 'READY'))),
      ...(await drive({
        greenlightWaitGateContinuation: { deploymentId: id, wait: 'READY_WAIT', phase: 'bake', state: {} },
      })),
      ...(await drive({ greenlightWaitGateContinuation: { deploymentId: id, wait: 'TERMINATION_WAIT' } })),
    ];

    expect(outcomes.map((o) => o.result)).toEqual(['not-waiting', 'not-waiting', 'not-waiting']);
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
    expect(test.hits).toHaveLength(0);
  });

  it('does not let an event time shorten the ready wait into a rollback', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 2\n    interval: 5s');
    const id = newDeployment({ readyWaitMinutes: 1 });
    codedeploy.becomeReady(id);
    // 55 s into a 60 s wait, by the event's word: a 5 s schedule would not fit.
    const time = new Date(Date.now() - 55_000).toISOString();

    const outcomes = await drive(stateChange(id, 'READY', time), 8_000);

    expect(outcomes.at(-1)).toMatchObject({ verdict: 'pass', result: 'continued' });
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
  });

  it('stops with rollback, naming the setting, when the state key cannot be read to resume a bake', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);
    await handler(stateChange(id, 'READY'), lambdaContext(1_600, functionName));
    const [queued] = lambda.take();
    delete process.env.GREENLIGHT_STATE_KEY_SECRET_ARN;

    const [out] = await drive(queued?.payload).finally(() => {
      process.env.GREENLIGHT_STATE_KEY_SECRET_ARN = stateKey.secretArn;
    });

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out?.reasons.join('\n')).toMatch(/GREENLIGHT_STATE_KEY_SECRET_ARN is not set/);
  });
});
