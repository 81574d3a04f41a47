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
 * header written in the plan itself, whatever its name says (`X-Api-Key`, `Ocp-Apim-Subscription-Key`,
 * `X-Functions-Key`), and so is a secret written into the URL's path, in the encoding the path gives it.
 */

const token = 'sm-tok-4f1d9a7c2b8e6035';
const plainKey = 'plain-key-73e0c5a1';
const apimKey = 'apim-key-0c6b2e94d1';
const functionsKey = 'fn-key-5e08a7c3b9';
/** A secret in the URL path: green sees it as `pa%20ss;word-...`, and may echo it so. */
const pathKey = 'pa ss;word-2b7d09';

const plan = JSON.stringify({
  version: 1,
  secrets: { apiToken: { ssm: '/greenlight/api-token' }, pathKey: { ssm: '/greenlight/path-key' } },
  hooks: { '*': ['green-api'] },
  checks: {
    'green-api': {
      type: 'http',
      url: '{{testListenerUrl}}/me/{{secret:pathKey}}',
      headers: {
        Authorization: 'Bearer {{secret:apiToken}}',
        'X-Api-Key': plainKey,
        'Ocp-Apim-Subscription-Key': apimKey,
        'X-Functions-Key': functionsKey,
      },
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
  await ssm.send(
    new PutParameterCommand({ Name: '/greenlight/path-key', Value: pathKey, Type: 'SecureString', Overwrite: true }),
  );
  await ssm.send(
    new PutParameterCommand({ Name: '/greenlight/short', Value: 'q7z', Type: 'SecureString', Overwrite: true }),
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
  // The worst green: it answers with the credentials it was sent, in the body and in a header, each in
  // turn first in the body, so that each reaches the excerpt a verdict reason quotes.
  let turn = 0;
  h.green.respond((req, res) => {
    seenByGreen.push(String(req.headers.authorization));
    const echoed = [
      String(req.headers.authorization),
      String(req.headers['x-api-key']),
      String(req.headers['ocp-apim-subscription-key']),
      String(req.headers['x-functions-key']),
      String(req.url),
    ];
    const first = turn++ % echoed.length;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-seen': String(req.headers.authorization) });
    res.end(`not json: ${[...echoed.slice(first), ...echoed.slice(0, first)].join(' ')}`);
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
  expect(text).not.toContain(new URL(`http://h/${pathKey}`).pathname.slice(1, 12));
  for (const secret of [token, plainKey, apimKey, functionsKey, pathKey]) {
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

describe('secrets that must never be sent or echoed (issue 11)', () => {
  const runHook = async (o: Parameters<Harness['codeDeployDeployment']>[0] = {}) => {
    const id = h.codeDeployDeployment(o);
    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );
    restore?.();
    return out;
  };
  const planWith = (check: Record<string, unknown>, secrets: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: 1,
      secrets,
      hooks: { '*': ['green-api'] },
      checks: { 'green-api': { type: 'http', url: '{{testListenerUrl}}/me', count: 1, timeout: '500ms', ...check } },
    });

  it('codedeploy-hook: sends an application name of {{secret:apiToken}} as that text, never as the secret', async () => {
    const sent: unknown[] = [];
    h.green.respond((req, res) => {
      sent.push(req.headers['x-app']);
      res.end('ok');
    });
    process.env.GREENLIGHT_PLAN = planWith(
      { headers: { 'X-App': '{{applicationName}}', 'X-Other': '{{secret:apiToken}}' } },
      { apiToken: { ssm: '/greenlight/api-token' } },
    );

    const out = await runHook({ applicationName: '{{secret:apiToken}}' });

    expect(out.status).toBe('Succeeded');
    expect(sent).toEqual(['{{secret:apiToken}}']);
    expectNoCredentials(await everythingSaid([out]));
  });

  it('codedeploy-hook: a credential mistyped in the plan is named by its field, never quoted', async () => {
    const mistyped = 'sk-live-9d2f4b7a1c3e5068';
    process.env.GREENLIGHT_PLAN = planWith({ headers: `X-Api-Key: ${mistyped}` });

    const out = await runHook();

    expect(out.status).toBe('Failed');
    expect(out.reasons.join('\n')).toMatch(
      /checks\.green-api\.headers: expected an object, got a string of 35 characters/,
    );
    expect(await everythingSaid([out])).not.toContain(mistyped.slice(0, 8));
  });

  it('codedeploy-hook: never sends a secret too short to scrub, and names the secret, not its value', async () => {
    const sent: unknown[] = [];
    h.green.respond((req, res) => {
      sent.push(req.url);
      res.end('ok');
    });
    process.env.GREENLIGHT_PLAN = planWith(
      { headers: { 'X-Api-Key': '{{secret:pin}}' } },
      { pin: { ssm: '/greenlight/short' } },
    );

    const out = await runHook();

    expect(out.status).toBe('Failed');
    expect(sent).toEqual([]);
    expect(out.reasons.join('\n')).toMatch(/secret pin \(SSM \/greenlight\/short\) is shorter than 4 characters/);
    expect(out.reasons.join('\n')).not.toContain('q7z');
  });
});
