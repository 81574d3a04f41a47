import { readFileSync } from 'node:fs';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DurableOutcome } from '../../lib/gate/durable.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import type { WaitOutcome } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { createLoadBalancer, type LocalLoadBalancer } from '../../local/elb-setup.ts';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type LambdaAsyncFake, startLambdaAsyncFake } from '../../local/fakes/lambda-async.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/codedeploy-wait-gate/index.ts')['handler'];
type Analyse = typeof import('../../functions/durable-analysis/index.ts')['analyse'];

const functionName = 'greenlight-codedeploy-wait-gate';
/** The durable function's alias, as the template passes it in GREENLIGHT_DURABLE_FUNCTION. */
const durableArn = 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-analysis:live';

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
let lambda: LambdaAsyncFake;
let test: HttpTarget;
let prod: HttpTarget;
let lb: LocalLoadBalancer;
let handler: Handler;
let analyse: Analyse;
let seq = 0;

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

/** Runs the event in the entry function; a short schedule decides there and starts no durable execution. */
async function drive(first: unknown, invocationMs = 10_000): Promise<WaitOutcome[]> {
  const out = await handler(first, lambdaContext(invocationMs, functionName));
  expect(lambda.take()).toEqual([]);
  return [out];
}

/**
 * Runs the event in the entry function, then the durable execution it started (if any) on the durable
 * function (functions/durable-analysis) under the SDK's LocalDurableTestRunner, as Lambda would.
 */
async function driveDurable(
  first: unknown,
  invocationMs = 1_600,
): Promise<{ entry: WaitOutcome; durable?: DurableOutcome }> {
  const entry = await handler(first, lambdaContext(invocationMs, functionName));
  const started = lambda.take();
  expect(started.length).toBeLessThanOrEqual(1);
  const [start] = started;
  if (!start) return { entry };
  expect(start).toMatchObject({ functionName: durableArn, invocationType: 'Event' });
  return { entry, durable: await runDurable(start.payload) };
}

async function runDurable(payload: unknown): Promise<DurableOutcome> {
  const { withDurableExecution } = await import('@aws/durable-execution-sdk-js');
  const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(analyse) });
  const execution = await runner.run({ payload });
  return execution.getResult() as DurableOutcome;
}

beforeAll(async () => {
  [moto, codedeploy, lambda, test, prod] = await Promise.all([
    startMoto(),
    startCodeDeployFake(),
    startLambdaAsyncFake(),
    startHttpTarget(),
    startHttpTarget(),
  ]);
  lb = await createLoadBalancer(moto.url, { name: 'gl-waits', prodPort: prod.port, testPort: test.port });
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = codedeploy.url;
  process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = moto.url;
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  process.env.GREENLIGHT_RESOLVE = `${lb.dnsName}=127.0.0.1`;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.GREENLIGHT_DURABLE_FUNCTION = durableArn;
  ({ handler } = await import('../../functions/codedeploy-wait-gate/index.ts'));
  ({ analyse } = await import('../../functions/durable-analysis/index.ts'));
}, 60_000);

afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
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

  it('runs a ReadyWait bake longer than the invocation on the durable function, which decides once', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const { entry, durable } = await driveDurable(stateChange(id, 'READY'));

    expect(entry).toMatchObject({ wait: 'READY_WAIT', result: 'analysis-started' });
    expect(durable).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'ContinueDeployment' });
    expect(test.hits).toHaveLength(5);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
    expect(lambda.durableStarts.at(-1)).toMatchObject({ functionName: durableArn, outcome: 'started' });
  });

  it('starts nothing new for a duplicate READY while its durable execution runs: same name, same payload', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);

    const first = await handler(stateChange(id, 'READY'), lambdaContext(1_600, functionName));
    const again = await handler(
      stateChange(id, 'READY', new Date(Date.now() + 2_000).toISOString()),
      lambdaContext(1_600, functionName),
    );

    expect([first.result, again.result]).toEqual(['analysis-started', 'analysis-started']);
    expect(lambda.durableStarts.slice(-2).map((s) => s.outcome)).toEqual(['started', 'existing']);
    expect(lambda.take()).toHaveLength(1);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(0);
  });

  it('stops with rollback when the durable execution cannot be started', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 2\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.becomeReady(id);
    lambda.failNext({ type: 'AccessDeniedException', status: 403, message: 'not allowed to invoke' });

    const { entry } = await driveDurable(stateChange(id, 'READY'));

    expect(entry).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(entry.reasons.join('\n')).toMatch(/not allowed to invoke/);
    expect(statusOf(id)).toBe('Stopped');
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
  it('watches from START on the durable function, bakes on production traffic once the wait begins, then ends it early', async () => {
    const id = newDeployment({ service: 'orders' });

    const first = await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    expect(first).toMatchObject({ wait: 'TERMINATION_WAIT', result: 'analysis-started' });
    expect(prod.hits).toHaveLength(0);
    const [watch] = lambda.take();
    codedeploy.beginTerminationWait(id);

    const durable = await runDurable(watch?.payload);

    expect(durable).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'ContinueDeployment' });
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

  it('makes a duplicate START find the watch already started, and a late one a no-op once the decision is made', async () => {
    const id = newDeployment();
    await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    const duplicate = await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    expect(duplicate).toMatchObject({ result: 'analysis-started' });
    expect(lambda.durableStarts.slice(-2).map((s) => s.outcome)).toEqual(['started', 'existing']);
    const [watch, another] = lambda.take();
    expect(another).toBeUndefined();
    codedeploy.beginTerminationWait(id);
    await runDurable(watch?.payload);
    expect(statusOf(id)).toBe('Succeeded');
    prod.hits.length = 0;

    const late = await drive(stateChange(id, 'START'));

    expect(late).toEqual([expect.objectContaining({ result: 'watch-ended', reasons: ['deployment is Succeeded'] })]);
    expect(prod.hits).toHaveLength(0);
    expect(callsFor('ContinueDeployment', id)).toHaveLength(1);
  });

  it('does nothing when the durable execution finds the deployment no longer in its termination wait', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('count: 3\n    interval: 100ms', 'count: 5\n    interval: 500ms');
    const id = newDeployment();
    codedeploy.beginTerminationWait(id);
    const first = await handler(stateChange(id, 'START'), lambdaContext(1_600, functionName));
    expect(first.result).toBe('analysis-started');
    const [bake] = lambda.take();
    const deployment = codedeploy.deployment(id);
    if (deployment) deployment.deploymentInfo.status = 'Succeeded';

    const durable = await runDurable(bake?.payload);

    expect(durable).toMatchObject({ result: 'closed', reasons: ['deployment is Succeeded'] });
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
    codedeploy.failNext('GetDeployment', { type: 'AccessDeniedException', message: 'denied' });

    await expect(handler(stateChange(id, 'START'), lambdaContext(1_500, functionName))).rejects.toThrow(/denied/);
    expect(lambda.take()).toHaveLength(0);
  });

  it('ends the watch when the deployment fails before its termination wait', async () => {
    const id = newDeployment();
    await handler(stateChange(id, 'START'), lambdaContext(1_500, functionName));
    const [watch] = lambda.take();
    const deployment = codedeploy.deployment(id);
    if (deployment) deployment.deploymentInfo.status = 'Failed';

    const durable = await runDurable(watch?.payload);

    expect(durable).toMatchObject({ result: 'closed', reasons: ['deployment is Failed'] });
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
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
    const { readBuildTargets } = await import('../../local/build-targets.ts');
    expect(fn?.Metadata?.BuildMethod).toBe('makefile');
    expect((await readBuildTargets()).get('CodeDeployWaitGateFunction')).toBe('codedeploy-wait-gate');
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

describe('codedeploy-wait-gate: a payload never approves a deployment', () => {
  it('does nothing for a READY event, or a durable start naming it, when the deployment is not waiting', async () => {
    const id = newDeployment();
    const start = {
      v: 1,
      trigger: 'codedeploy-wait-gate',
      event: {
        'detail-type': 'CodeDeploy Deployment State-change Notification',
        detail: { deploymentId: id, state: 'READY' },
      },
    };

    const [out] = await drive(stateChange(id, 'READY'));
    // A payload sent to the durable function directly names the deployment, and CodeDeploy is asked.
    const durable = await runDurable(start);

    expect(out).toMatchObject({ result: 'not-waiting' });
    expect(durable).toMatchObject({ result: 'closed' });
    expect(durable.reasons.join()).toMatch(/not in its READY_WAIT/);
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

    const outcomes = await drive(stateChange(id, 'READY', time), 20_000);

    expect(outcomes.at(-1)).toMatchObject({ verdict: 'pass', result: 'continued' });
    expect(callsFor('StopDeployment', id)).toHaveLength(0);
  });
});
