import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Invocation faults of every function, end to end (handlers as Lambda runs them, the real SDK, loopback
 * stand-ins for AWS): malformed events, duplicates at the same moment, little time left, reports that
 * never get through, unreadable deployments, plans that cannot work. Cases other test files prove are
 * listed in SECURITY.md with the test that proves them.
 */

const plan = `
version: 1
hooks:
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    count: 2
    interval: 50ms
    timeout: 1s
`;

let h: Harness;

const sample = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** Calls that act on a deployment, by any function: none may follow an event that identifies nothing. */
function decisionCalls(): number {
  return (
    h.codedeploy.callsOf('PutLifecycleEventHookExecutionStatus').length +
    h.codedeploy.callsOf('ContinueDeployment').length +
    h.codedeploy.callsOf('StopDeployment').length +
    h.ecs.callsOf('ContinueServiceDeployment').length +
    h.proton.callsOf('CancelServicePipelineDeployment').length
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

beforeAll(async () => {
  h = await startHarness('gl-hardening');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  process.env.GREENLIGHT_REPORT_RESERVE = '500ms';
  h.green.respond((_req, res) => res.end('ok'));
  h.codedeploy.clearFaults();
  h.ecs.clearFaults();
  h.lambda.take();
});

describe('malformed events: nothing identified, nothing decided, quickly', () => {
  const huge = 'x'.repeat(2 * 1024 * 1024);
  const ecsEvent = () => lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT');

  it.each<[string, () => unknown]>([
    ['null', () => null],
    ['a number', () => 42],
    ['a list', () => [1, 2]],
    ['a string that is not JSON', () => 'DeploymentId=d-123'],
    ['no ids', () => ({})],
    ['ids of the wrong type', () => ({ DeploymentId: 123456789, LifecycleEventHookExecutionId: ['e'] })],
    ['an id of 2 MiB', () => ({ DeploymentId: huge, LifecycleEventHookExecutionId: 'e-1' })],
    ['an id with a path in it', () => ({ DeploymentId: '../d-1', LifecycleEventHookExecutionId: 'e-1' })],
  ])('codedeploy-hook refuses %s, reporting nothing (there is nothing to report to)', async (_name, event) => {
    const before = decisionCalls();
    const { ms } = await timed(() =>
      expect(h.handlers.codedeployHook(event(), lambdaContext(5_000))).rejects.toThrow(/malformed event/),
    );
    expect(decisionCalls()).toBe(before);
    expect(ms).toBeLessThan(1_000);
  });

  it('codedeploy-hook ignores extra fields, even huge ones, and decides on the ids', async () => {
    const id = h.codeDeployDeployment();
    const event = { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}`, extra: huge, nested: { a: [1] } };

    const out = await h.handlers.codedeployHook(event, lambdaContext(5_000));

    expect(out).toMatchObject({ status: 'Succeeded', delivery: 'reported' });
  });

  it.each<[string, () => unknown, RegExp]>([
    ['null', () => null, /event: expected an object/],
    ['no stage', () => ({ ...ecsEvent(), lifecycleStage: undefined }), /lifecycleStage: expected one of/],
    ['an unknown stage', () => ({ ...ecsEvent(), lifecycleStage: 'DROP_TABLES' }), /lifecycleStage: expected one of/],
    [
      'a service ARN of the wrong type',
      () => {
        const e = ecsEvent();
        return { ...e, executionDetails: { ...e.executionDetails, serviceArn: 42 } };
      },
      /executionDetails\.serviceArn: expected an ECS service ARN, got 42/,
    ],
    [
      'a weight that is not a percentage',
      () => {
        const e = ecsEvent();
        return { ...e, executionDetails: { ...e.executionDetails, testTrafficWeights: { a: 1e9 } } };
      },
      /must be a number 0-100/,
    ],
    ['an event of 2 MiB', () => ({ ...ecsEvent(), extra: huge }), /event is larger than 262144 bytes/],
    ['hookDetails that are a list', () => ({ ...ecsEvent(), hookDetails: [1] }), /hookDetails: expected an object/],
    [
      'a plan in hookDetails larger than 256 KiB',
      () => ({ ...ecsEvent(), hookDetails: { greenlightPlan: `# ${'p'.repeat(200 * 1024)}` } }),
      /./,
    ],
  ])('ecs-lifecycle-hook answers FAILED, with the reason, to %s', async (_name, event, why) => {
    const before = decisionCalls();
    const { value: out, ms } = await timed(() => h.handlers.ecsLifecycleHook(event(), lambdaContext(5_000)));

    expect(out.hookStatus).toBe('FAILED');
    const result = out.hookDetails?.greenlightResult as { reasons: string[] };
    expect(result.reasons.join('\n')).toMatch(why);
    expect(JSON.stringify(out).length).toBeLessThan(8 * 1024);
    expect(decisionCalls()).toBe(before);
    expect(ms).toBeLessThan(1_000);
  });

  it.each<[string, () => unknown]>([
    ['null', () => null],
    ['another source', () => ({ ...sample('events/ecs-pause-gate/hook-awaiting-action.json'), source: 'aws.s3' })],
    [
      'no hook id',
      () => {
        const e = sample('events/ecs-pause-gate/hook-awaiting-action.json') as { detail: Record<string, unknown> };
        return { ...e, detail: { ...e.detail, hookId: undefined } };
      },
    ],
    [
      'a hook id of 2 MiB',
      () => {
        const e = sample('events/ecs-pause-gate/hook-awaiting-action.json') as { detail: Record<string, unknown> };
        return { ...e, detail: { ...e.detail, hookId: huge } };
      },
    ],
    ['a payload that once carried state', () => ({ greenlightPauseGateContinuation: 'resume please' })],
  ])('ecs-pause-gate ignores %s without calling ECS', async (_name, event) => {
    const before = h.ecs.calls.length;
    const { value: out, ms } = await timed(() => h.handlers.ecsPauseGate(event(), lambdaContext(5_000)));

    expect(out.outcome).toBe('ignored');
    expect(JSON.stringify(out).length).toBeLessThan(2 * 1024);
    expect(h.ecs.calls.length).toBe(before);
    expect(ms).toBeLessThan(1_000);
  });

  const waitEvent = (detail: Record<string, unknown>, top: Record<string, unknown> = {}) => {
    const e = sample('events/codedeploy-wait-gate/deployment-success.json') as { detail: Record<string, unknown> };
    return { ...e, ...top, detail: { ...e.detail, ...detail } };
  };

  it.each<[string, () => unknown]>([
    ['null', () => null],
    ['no detail', () => ({ source: 'aws.codedeploy' })],
    ['no deployment id', () => waitEvent({ deploymentId: undefined })],
    ['a deployment id of the wrong type', () => waitEvent({ deploymentId: 123 })],
    ['a deployment id of 2 MiB', () => waitEvent({ deploymentId: huge })],
    ['a payload that once carried state', () => ({ greenlightWaitGateContinuation: { deploymentId: 'd-123456789' } })],
  ])('codedeploy-wait-gate refuses %s without calling CodeDeploy', async (_name, event) => {
    const before = h.codedeploy.calls.length;
    await expect(h.handlers.codedeployWaitGate(event(), lambdaContext(5_000))).rejects.toThrow(/malformed/);
    expect(h.codedeploy.calls.length).toBe(before);
  });

  it.each<[string, () => unknown]>([
    ['a state of 2 MiB', () => waitEvent({ state: huge })],
    ['a detail-type of 2 MiB', () => waitEvent({ state: 'READY' }, { 'detail-type': huge })],
  ])('codedeploy-wait-gate keeps %s out of its answer and its logs', async (_name, event) => {
    const before = h.codedeploy.calls.length;
    const out = await h.handlers.codedeployWaitGate(event(), lambdaContext(5_000)).catch((e: Error) => e.message);

    expect(JSON.stringify(out).length).toBeLessThan(2 * 1024);
    expect(h.codedeploy.calls.length).toBe(before);
  });

  const protonEvent = (detail: Record<string, unknown>, top: Record<string, unknown> = {}) => {
    const e = sample('events/proton-pipeline-guard/service-pipeline-in-progress.json') as {
      detail: Record<string, unknown>;
    };
    return { ...e, ...top, detail: { ...e.detail, ...detail } };
  };

  it.each<[string, () => unknown]>([
    ['null', () => null],
    [
      'no service name anywhere',
      () => ({ ...protonEvent({ serviceName: undefined, name: undefined }), resources: [] }),
    ],
    ['a service name of the wrong type', () => ({ ...protonEvent({ serviceName: 7, name: 7 }), resources: [] })],
  ])('proton-pipeline-guard refuses %s without calling Proton', async (_name, event) => {
    const before = h.proton.calls.length;
    await expect(h.handlers.protonGuard(event(), lambdaContext(5_000))).rejects.toThrow(/malformed event/);
    expect(h.proton.calls.length).toBe(before);
  });

  it.each<[string, () => unknown]>([
    ['a status of 2 MiB', () => protonEvent({ status: huge })],
    ['a detail-type of 2 MiB', () => protonEvent({}, { 'detail-type': huge })],
    ['a million resources', () => ({ ...protonEvent({ status: 'SUCCEEDED' }), resources: Array(1_000_000).fill('x') })],
  ])('proton-pipeline-guard keeps %s out of its answer, quickly', async (_name, event) => {
    const before = h.proton.calls.length;
    const { value: out, ms } = await timed(() =>
      h.handlers.protonGuard(event(), lambdaContext(5_000)).catch((e: Error) => e.message),
    );

    expect(JSON.stringify(out).length).toBeLessThan(2 * 1024);
    expect(h.proton.calls.length).toBe(before);
    expect(ms).toBeLessThan(1_000);
  });
});

describe('duplicates at the same moment', () => {
  it('codedeploy-hook reports a hook once when CodeDeploy delivers it twice at once; the other is a no-op', async () => {
    const id = h.codeDeployDeployment();
    const event = { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` };

    const outs = await Promise.all([
      h.handlers.codedeployHook(event, lambdaContext(5_000)),
      h.handlers.codedeployHook(event, lambdaContext(5_000)),
    ]);

    expect(outs.map((o) => o.delivery).sort()).toEqual(['already-completed', 'reported']);
    expect(outs.map((o) => o.status)).toEqual(['Succeeded', 'Succeeded']);
    expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Succeeded');
  });

  it('codedeploy-wait-gate continues a ready wait once when READY arrives twice at once', async () => {
    const id = h.codeDeployDeployment({ readyWaitMinutes: 60 });
    h.codedeploy.becomeReady(id);
    const event = {
      ...sample('events/codedeploy-wait-gate/deployment-ready.json'),
      time: new Date().toISOString(),
      detail: { ...(sample('events/codedeploy-wait-gate/deployment-ready.json').detail as object), deploymentId: id },
    };
    process.env.GREENLIGHT_PLAN = plan.replace('"*"', 'ReadyWait');

    const outs = await Promise.all([
      h.handlers.codedeployWaitGate(event, lambdaContext(5_000)),
      h.handlers.codedeployWaitGate(event, lambdaContext(5_000)),
    ]);

    const continued = h.codedeploy.callsOf('ContinueDeployment').filter((c) => c.input.deploymentId === id);
    expect(outs.map((o) => o.verdict)).toEqual(['pass', 'pass']);
    expect(h.codedeploy.callsOf('StopDeployment').filter((c) => c.input.deploymentId === id)).toHaveLength(0);
    // Both may ask; CodeDeploy takes the first and refuses the second, which is a logged no-op.
    expect(continued.length).toBeGreaterThanOrEqual(1);
    expect(outs.filter((o) => o.result === 'continued')).toHaveLength(1);
    expect(h.codedeploy.deployment(id)?.deploymentInfo.status).toBe('InProgress');
  });

  it('ecs-lifecycle-hook gives the same answer to the same event delivered twice at once', async () => {
    const event = lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT');

    const outs = await Promise.all([
      h.handlers.ecsLifecycleHook(event, lambdaContext(5_000)),
      h.handlers.ecsLifecycleHook(event, lambdaContext(5_000)),
    ]);

    expect(outs.map((o) => o.hookStatus)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});

describe('little time left', () => {
  beforeEach(() => {
    // The deadline, not the check's own timeout, is what stops these measurements.
    process.env.GREENLIGHT_PLAN = plan.replace('timeout: 1s', 'timeout: 60s');
  });

  it.each([400, 1_000, 2_000])(
    'codedeploy-hook reports Failed once, before the deadline, when invoked with %i ms left and green is slow',
    async (left) => {
      h.green.respond((_req, res) => setTimeout(() => res.end('ok'), 5_000).unref());
      const id = h.codeDeployDeployment();
      const context = lambdaContext(left);

      const out = await h.handlers.codedeployHook(
        { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
        context,
      );

      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
      expect(out.status).toBe('Failed');
      // A 60 s measurement cannot fit what is left: refused before probing (no durable function is set here),
      // or cut by the deadline when reading the deployment already took the time.
      expect(out.reasons.join('\n')).toMatch(/deadline reached|no durable function is configured/);
      expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
    },
  );

  it.each([400, 1_000])(
    'ecs-lifecycle-hook answers before the deadline, never SUCCEEDED on unfinished checks, with %i ms left',
    async (left) => {
      h.green.respond((_req, res) => setTimeout(() => res.end('ok'), 5_000).unref());
      const context = lambdaContext(left);

      const out = await h.handlers.ecsLifecycleHook(
        lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT'),
        context,
      );

      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
      expect(out.hookStatus).not.toBe('SUCCEEDED');
    },
  );
});

describe('reports that never get through', () => {
  it('codedeploy-hook fails loudly before its deadline, never claiming success, when every report is throttled', async () => {
    const id = h.codeDeployDeployment();
    h.codedeploy.failNext(
      'PutLifecycleEventHookExecutionStatus',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      Number.POSITIVE_INFINITY,
    );
    const context = lambdaContext(4_000);

    await expect(
      h.handlers.codedeployHook({ DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` }, context),
    ).rejects.toThrow(/verdict not delivered in time after \d+ attempts; last error: ThrottlingException/);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(h.codedeploy.hookStatuses.has(`exec-${id}`)).toBe(false);
    const attempts = h.codedeploy
      .callsOf('PutLifecycleEventHookExecutionStatus')
      .filter((c) => c.input.deploymentId === id);
    expect(attempts.length).toBeGreaterThan(3);
  });

  it('ecs-pause-gate fails loudly, never claiming a decision, when ContinueServiceDeployment fails every time', async () => {
    const d = h.nativeDeployment();
    const { hookId, event } = h.ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });
    h.ecs.failNext(
      'ContinueServiceDeployment',
      { type: 'ServerException', message: 'internal error', status: 500 },
      Number.POSITIVE_INFINITY,
    );
    const context = lambdaContext(4_000);

    await expect(h.handlers.ecsPauseGate(event, context)).rejects.toThrow(/ServerException|not delivered/);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(h.ecs.decisions.has(hookId)).toBe(false);
  });
});

describe('AWS reads that fail: fail closed', () => {
  it('codedeploy-hook reports Failed when GetDeployment stays throttled through the SDK retries', async () => {
    const id = h.codeDeployDeployment();
    h.codedeploy.failNext('GetDeployment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);

    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/could not validate: .*Rate exceeded/);
    expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('codedeploy-hook reports Failed when the deployment target cannot be read', async () => {
    const id = h.codeDeployDeployment();
    h.codedeploy.failNext('GetDeploymentTarget', { type: 'AccessDeniedException', message: 'not authorized' }, 1);

    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );

    expect(out.status).toBe('Failed');
    expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
  });

  it('ecs-lifecycle-hook answers FAILED, never SUCCEEDED, when the service revision stays throttled for all the time it has', async () => {
    h.ecs.failNext('DescribeServiceRevisions', { type: 'ThrottlingException', message: 'Rate exceeded' }, 10_000);

    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT'),
      lambdaContext(4_000),
    );
    h.ecs.failNext('DescribeServiceRevisions', { type: 'ThrottlingException', message: 'Rate exceeded' }, 0);

    expect(out.hookStatus).toBe('FAILED');
  });

  it('ecs-lifecycle-hook retries a throttled read within its time: throttling is AWS answering, not green failing', async () => {
    h.ecs.failNext('DescribeServiceRevisions', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);

    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT'),
      lambdaContext(10_000),
    );

    expect(out.hookStatus).toBe('SUCCEEDED');
  });
});

describe('plans that cannot work', () => {
  const run = async (text: string) => {
    process.env.GREENLIGHT_PLAN = text;
    const id = h.codeDeployDeployment();
    return h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(),
    );
  };

  it('reports Failed naming the check whose kind does not exist', async () => {
    const out = await run(plan.replace('type: http', 'type: telepathy'));

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/checks\.green-health\.type: unknown check type "telepathy"/);
  });

  it('reports Failed naming the required field the check lacks', async () => {
    const out = await run(plan.replace('    url: "{{testListenerUrl}}/health"\n', ''));

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/checks\.green-health\.url: expected a string, got nothing/);
  });

  it('reports Failed, naming the rule, when the plan probes an address it does not allow', async () => {
    const out = await run(plan.replace('"{{testListenerUrl}}/health"', 'http://169.254.169.254/latest/meta-data/'));

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(
      /checks\.green-health\.url: refused: 169\.254\.169\.254 is a metadata address/,
    );
  });
});
