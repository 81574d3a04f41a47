import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type ProtonFake, startProtonFake } from '../../local/fakes/proton.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';

type Handler = typeof import('../../functions/proton-pipeline-guard/index.ts')['handler'];

const functionName = 'greenlight-proton-pipeline-guard';

let proton: ProtonFake;
let service: HttpTarget;
let handler: Handler;
let seq = 0;

function plan(): string {
  return `
version: 1
allow: { addresses: [loopback] }
hooks:
  ProtonPipeline: [service-health]
checks:
  service-health:
    type: http
    url: "${service.url}/health?service={{protonServiceName}}"
    count: 2
    interval: 100ms
    timeout: 300ms
`;
}

/** The pipeline status change, as the Proton User Guide's EventBridge table describes it. */
function pipelineEvent(serviceName: string, status = 'IN_PROGRESS') {
  const sample = JSON.parse(
    readFileSync('events/proton-pipeline-guard/service-pipeline-in-progress.json', 'utf8'),
  ) as Record<string, unknown> & { detail: Record<string, unknown> };
  return {
    ...sample,
    resources: [`arn:aws:proton:us-east-1:123456789012:service/${serviceName}/pipeline`],
    detail: { ...sample.detail, serviceName, status },
  };
}

function newService(cancelBehaviour?: 'CANCELLED' | 'FAILED' | 'SUCCEEDED' | 'CANCELLING') {
  seq++;
  const name = `svc-${seq}`;
  const s = proton.addService(name, { deploymentStatus: 'IN_PROGRESS', deploymentId: `dep-${seq}` }, cancelBehaviour);
  return s;
}

function cancelsOf(name: string) {
  return proton.callsOf('CancelServicePipelineDeployment').filter((c) => c.input.serviceName === name);
}

const failing = () =>
  service.respond((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });

beforeAll(async () => {
  [proton, service] = await Promise.all([startProtonFake(), startHttpTarget()]);
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_PROTON = proton.url;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = await import('../../functions/proton-pipeline-guard/index.ts'));
}, 30_000);

afterAll(async () => {
  await Promise.all([proton?.close(), service?.close()]);
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan();
  process.env.GREENLIGHT_REPORT_RESERVE = '1s';
  service.respond((_req, res) => res.end('ok'));
  service.hits.length = 0;
});

describe('proton-pipeline-guard (legacy), end to end with the real SDK', () => {
  it('lets an IN_PROGRESS pipeline deployment go on when its checks pass', async () => {
    const s = newService();

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ serviceName: s.name, verdict: 'pass', result: 'passed' });
    expect(service.hits).toEqual([`/health?service=${s.name}`, `/health?service=${s.name}`]);
    expect(cancelsOf(s.name)).toHaveLength(0);
    expect(s.pipeline?.deploymentStatus).toBe('IN_PROGRESS');
  });

  it('cancels the pipeline deployment when a check fails, and reports CANCELLED', async () => {
    failing();
    const s = newService('CANCELLED');

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'cancelled', pipelineStatus: 'CANCELLED' });
    expect(out.reasons.join('\n')).toMatch(/service-health: fail: .*503/);
    expect(cancelsOf(s.name).map((c) => c.input)).toEqual([{ serviceName: s.name }]);
    expect(service.hits).toHaveLength(1);
  });

  it('reports FAILED when the cancellation attempt fails', async () => {
    failing();
    const s = newService('FAILED');

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'failed', pipelineStatus: 'FAILED' });
    expect(out.reasons.at(-1)).toMatch(/cancellation failed/);
  });

  it('reports no effect when the deployment succeeded before the cancellation started', async () => {
    failing();
    const s = newService('SUCCEEDED');

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'no-effect', pipelineStatus: 'SUCCEEDED' });
    expect(out.reasons.at(-1)).toMatch(/already succeeded: the cancellation had no effect/);
  });

  it('follows a CANCELLING answer until Proton settles it', async () => {
    failing();
    const s = newService('CANCELLING');

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ result: 'cancelled', pipelineStatus: 'CANCELLED' });
  });

  it('treats a duplicate event after the cancellation as a logged no-op', async () => {
    failing();
    const s = newService('CANCELLED');
    const event = pipelineEvent(s.name);
    await handler(event, lambdaContext(10_000, functionName));
    service.hits.length = 0;

    const again = await handler(event, lambdaContext(10_000, functionName));

    expect(again).toMatchObject({ result: 'not-in-progress', pipelineStatus: 'CANCELLED' });
    expect(service.hits).toHaveLength(0);
    expect(cancelsOf(s.name)).toHaveLength(1);
  });

  it('treats the refusal to cancel a deployment that just finished as a logged no-op', async () => {
    failing();
    const s = newService('CANCELLED');
    s.finishesBeforeCancel = 'SUCCEEDED';

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'already-finished', pipelineStatus: 'SUCCEEDED' });
    expect(cancelsOf(s.name)).toHaveLength(1);
  });

  it('does not cancel when the deployment finished while the checks ran', async () => {
    const s = newService('CANCELLED');
    service.respond((_req, res) => {
      if (s.pipeline) s.pipeline.deploymentStatus = 'FAILED';
      res.statusCode = 500;
      res.end();
    });

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'already-finished', pipelineStatus: 'FAILED' });
    expect(cancelsOf(s.name)).toHaveLength(0);
  });

  it('never cancels a newer deployment on the verdict of the one it replaced', async () => {
    const s = newService('CANCELLED');
    service.respond((_req, res) => {
      if (s.pipeline) s.pipeline.lastAttemptedDeploymentId = 'dep-newer';
      res.statusCode = 500;
      res.end();
    });

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'superseded' });
    expect(out.reasons.at(-1)).toMatch(/replaced by dep-newer: not cancelled/);
    expect(cancelsOf(s.name)).toHaveLength(0);
  });

  it('throws, loudly, when the cancellation is denied while the deployment still runs', async () => {
    failing();
    const s = newService('CANCELLED');
    proton.failNext('CancelServicePipelineDeployment', { type: 'AccessDeniedException', message: 'not allowed' });

    await expect(handler(pipelineEvent(s.name), lambdaContext(10_000, functionName))).rejects.toThrow(/AccessDenied/);
    expect(s.pipeline?.deploymentStatus).toBe('IN_PROGRESS');
  });

  it('cancels, naming the hook and the plan keys, when the plan has no ProtonPipeline entry', async () => {
    process.env.GREENLIGHT_PLAN = plan().replace('ProtonPipeline:', 'ReadyWait:');
    const s = newService('CANCELLED');

    const out = await handler(pipelineEvent(s.name), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'cancelled' });
    expect(out.reasons[0]).toMatch(/no entry for ProtonPipeline .*plan has: ReadyWait/);
    expect(service.hits).toHaveLength(0);
  });

  it('cancels when the schedule cannot fit in the invocation', async () => {
    // fits the guard's 14 min, not the 4 s this invocation has left
    process.env.GREENLIGHT_PLAN = plan().replace('interval: 100ms', 'interval: 5s');
    const s = newService('CANCELLED');

    const out = await handler(pipelineEvent(s.name), lambdaContext(4_000, functionName));

    expect(out).toMatchObject({ verdict: 'fail', result: 'cancelled' });
    expect(out.reasons[0]).toMatch(/does not fit in this invocation/);
  });

  it('ignores pipeline statuses other than IN_PROGRESS without calling Proton', async () => {
    const s = newService();
    const before = proton.calls.length;

    const out = await handler(pipelineEvent(s.name, 'SUCCEEDED'), lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ result: 'ignored' });
    expect(proton.calls.length).toBe(before);
  });

  it('runs the sample event, reading the service from the pipeline ARN when the detail lacks it', async () => {
    const s = proton.addService('my-service', { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-sample' });
    const sample = JSON.parse(readFileSync('events/proton-pipeline-guard/service-pipeline-in-progress.json', 'utf8'));
    const { serviceName: _omitted, ...detail } = sample.detail;

    const out = await handler({ ...sample, detail }, lambdaContext(10_000, functionName));

    expect(out).toMatchObject({ serviceName: s.name, result: 'passed' });
  });

  it('rejects an event without a service name, since there is nothing to guard', async () => {
    await expect(handler({ detail: { status: 'IN_PROGRESS' } }, lambdaContext(5_000, functionName))).rejects.toThrow(
      /malformed event: no service name/,
    );
  });
});
