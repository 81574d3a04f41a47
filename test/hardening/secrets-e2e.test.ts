import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type EventSink, routeEventsToQueue } from '../../local/event-bus.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Secrets, end to end: a plan's secret is a SecureString in SSM (moto_server), read by the function with
 * the real SDK, sent to green, echoed back by green into every response, and then looked for everywhere
 * a function puts what it found: its logs (at DEBUG, every measurement), its answers and verdict reasons,
 * the state an ECS hook carries in hookDetails, and the verdict events on the bus. So is a credential
 * header written in the plan itself.
 */

const token = 'sm-tok-4f1d9a7c2b8e6035';
const plainKey = 'plain-key-73e0c5a1';

const plan = JSON.stringify({
  version: 1,
  secrets: { apiToken: { ssm: '/greenlight/api-token' } },
  hooks: { '*': ['green-api'] },
  checks: {
    'green-api': {
      type: 'http',
      url: '{{testListenerUrl}}/me',
      headers: { Authorization: 'Bearer {{secret:apiToken}}', 'X-Api-Key': plainKey },
      expect: { json: { ok: true } },
      count: 4,
      interval: '300ms',
      timeout: '200ms',
      failureLimit: 3,
    },
  },
});

let h: Harness;
let sink: EventSink;
let stdout: string[] = [];
let restore: (() => void) | undefined;
let seenByGreen: string[] = [];

beforeAll(async () => {
  h = await startHarness('gl-secrets', {
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    GREENLIGHT_PUBLISH_VERDICTS: 'true',
    AWS_LAMBDA_FUNCTION_NAME: 'greenlight-secrets-test',
  });
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = h.moto.url;
  sink = await routeEventsToQueue(h.moto.url, 'greenlight-secret-verdicts', {
    source: ['greenlight'],
    'detail-type': ['Greenlight Verdict'],
  });
  const ssm = new SSMClient({ endpoint: h.moto.url, region: 'us-east-1' });
  await ssm.send(
    new PutParameterCommand({ Name: '/greenlight/api-token', Value: token, Type: 'SecureString', Overwrite: true }),
  );
  ssm.destroy();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  process.env.GREENLIGHT_REPORT_RESERVE = '300ms';
  seenByGreen = [];
  // The worst green: it answers with the credentials it was sent, in the body and in a header.
  h.green.respond((req, res) => {
    seenByGreen.push(String(req.headers.authorization));
    res.writeHead(200, { 'content-type': 'text/plain', 'x-seen': String(req.headers.authorization) });
    res.end(`not json: ${req.headers.authorization} ${req.headers['x-api-key']}`);
  });
  stdout = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  restore = () => {
    process.stdout.write = original;
  };
});

afterEach(() => {
  restore?.();
});

/** Everything the functions said or sent, as text. */
async function everythingSaid(outputs: unknown[]): Promise<string> {
  const events = await sink.receive();
  return [
    ...stdout,
    JSON.stringify(outputs),
    JSON.stringify(events),
    JSON.stringify(h.codedeploy.calls),
    JSON.stringify(h.ecs.calls),
    JSON.stringify(h.lambda.invocations),
  ].join('\n');
}

function expectNoCredentials(text: string): void {
  for (const secret of [token, plainKey]) {
    expect(text).not.toContain(secret);
    // Nor its first characters where an excerpt was cut.
    expect(text).not.toContain(`${secret.slice(0, 8)}…`);
  }
}

describe('a secret from SSM and a credential header, echoed back by green', () => {
  it('codedeploy-hook: sent to green, absent from logs, reasons, the report and the verdict event', async () => {
    const id = h.codeDeployDeployment();

    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );
    restore?.();

    expect(seenByGreen[0]).toBe(`Bearer ${token}`);
    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(/body is not JSON \(starts "not json: \*\*\*/);
    const said = await everythingSaid([out]);
    expect(said).toMatch(/"message":"measurement"/);
    expect(said).toMatch(/Greenlight Verdict/);
    expectNoCredentials(said);
  });

  it('ecs-lifecycle-hook: absent from the state carried in hookDetails across invocations, and from the result', async () => {
    const first = lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT');
    const outputs: unknown[] = [];
    let event: Record<string, unknown> = first;
    for (let i = 0; i < 10; i++) {
      const out = await h.handlers.ecsLifecycleHook(event, lambdaContext(900));
      outputs.push(out);
      if (out.hookStatus !== 'IN_PROGRESS') break;
      event = { ...first, hookDetails: out.hookDetails };
    }
    restore?.();

    expect(outputs.length).toBeGreaterThan(1);
    expect((outputs[0] as { hookStatus: string }).hookStatus).toBe('IN_PROGRESS');
    expect(JSON.stringify(outputs[0])).toContain('***');
    expect((outputs.at(-1) as { hookStatus: string }).hookStatus).toBe('FAILED');
    expect(seenByGreen.every((a) => a === `Bearer ${token}`)).toBe(true);
    expectNoCredentials(await everythingSaid(outputs));
  });

  it('ecs-pause-gate: absent from the rollback, its logs and its event', async () => {
    const d = h.nativeDeployment();
    const { hookId, event } = h.ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });

    const out = await h.handlers.ecsPauseGate(event, lambdaContext(10_000));
    restore?.();

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(h.ecs.decisions.get(hookId)?.action).toBe('ROLLBACK');
    expectNoCredentials(await everythingSaid([out]));
  });

  it('is an error, never a pass, when the function may not read the secret', async () => {
    process.env.GREENLIGHT_PLAN = plan.replace('/greenlight/api-token', '/greenlight/missing');
    const id = h.codeDeployDeployment();

    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );
    restore?.();

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(
      /cannot read secret apiToken \(SSM \/greenlight\/missing\): ParameterNotFound/,
    );
    expect(seenByGreen).toEqual([]);
  });
});
