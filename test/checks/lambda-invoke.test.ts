import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBudget } from '../../lib/checks/body-budget.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { useSimpleLambda } from '../../local/checks-setup.ts';
import { type LambdaFake, startLambdaFake } from '../../local/fakes/lambda.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
// Invoke goes to this fake; functions defined as 'fallback' go on to moto_server's Docker-less Lambda.
let lambda: LambdaFake;
let deps: CheckDeps;

/** What the CodeDeploy hook resolves for a SAM PreTraffic hook: the alias still points at the old version. */
const preTraffic = { functionName: 'orders-api', alias: 'live', currentVersion: '6', targetVersion: '7' };

beforeAll(async () => {
  moto = await startMoto();
  lambda = await startLambdaFake({ fallback: moto.url });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
}, 60_000);

afterAll(async () => {
  await Promise.all([lambda?.close(), moto?.stop()]);
});

describe('lambda-invoke against moto_server (Docker-less: every invocation succeeds)', () => {
  it('passes when the response matches, and fails when it does not', async () => {
    lambda.define('moto-smoke', 'fallback');
    await useSimpleLambda(moto.url, ['{"status":"ok"}', '{"status":"degraded"}']);
    const check = {
      type: 'lambda-invoke',
      functionName: 'moto-smoke',
      qualifier: '$LATEST',
      expect: { json: { status: 'ok' } },
    };

    const first = await measureOnce(check, {}, deps);
    const second = await measureOnce(check, {}, deps);

    expect(first.outcome).toBe('pass');
    expect(second.outcome).toBe('fail');
    expect(second.message).toContain('JSON status is "degraded", expected "ok"');
  });
});

describe('lambda-invoke (Invoke answered by the fake)', () => {
  it('invokes the new version with the payload by default and passes on no function error', async () => {
    lambda.define('orders-api', (_payload, qualifier) => ({ payload: JSON.stringify({ statusCode: 200, qualifier }) }));

    const o = await measureOnce({ type: 'lambda-invoke', payload: { smoke: true } }, preTraffic, deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toBe('Invoke orders-api:7 (ran version 7): no function error');
    const call = lambda.calls.at(-1);
    expect(call).toEqual({
      functionName: 'orders-api',
      qualifier: '7',
      payload: '{"smoke":true}',
      invocationType: 'RequestResponse',
    });
  });

  it('fails on a function error, with its type and message but not its stack', async () => {
    lambda.define('orders-api', () => ({
      functionError: 'Unhandled',
      payload: JSON.stringify({
        errorType: 'TypeError',
        errorMessage: 'x is undefined',
        trace: ['at handler (index.js:3)'],
      }),
    }));

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toBe('Invoke orders-api:7 (ran version 7): function error Unhandled: TypeError: x is undefined');
  });

  it('fails when another version ran than the one asked for', async () => {
    lambda.define('orders-api', () => ({ payload: '{}', executedVersion: '6' }));

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('ran version 6, expected 7');
  });

  it('invokes an alias when the plan says so, whatever version it points at', async () => {
    lambda.define('orders-api', () => ({ payload: '"pong"', executedVersion: '6' }));

    const o = await measureOnce(
      { type: 'lambda-invoke', qualifier: '{{alias}}', expect: { bodyContains: 'pong' } },
      preTraffic,
      deps,
    );

    expect(o.outcome).toBe('pass');
    expect(lambda.calls.at(-1)?.qualifier).toBe('live');
  });

  it('fails when the response does not match the expectation', async () => {
    lambda.define('orders-api', () => ({ payload: JSON.stringify({ body: { items: [] } }) }));

    const o = await measureOnce(
      { type: 'lambda-invoke', expect: { json: { 'body.items[0].id': 1 } } },
      preTraffic,
      deps,
    );

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('JSON body.items[0].id is missing, expected 1');
  });

  it('matches bodyMatches in linear time (RE2): the catastrophic pattern of the issue is a plain fail', async () => {
    // With a backtracking engine this response holds the event loop for minutes.
    lambda.define('orders-api', () => ({ payload: `${'a'.repeat(29)}!` }));

    const o = await measureOnce({ type: 'lambda-invoke', expect: { bodyMatches: '^(\\w+\\s?)+$' } }, preTraffic, deps);

    expect(o).toMatchObject({
      outcome: 'fail',
      message: expect.stringContaining('response does not match /^(\\w+\\s?)+$/'),
    });
  });

  it("is an error, never a pass, when the invocation's body budget cannot hold a Lambda response", async () => {
    lambda.define('orders-api', () => ({ payload: '{}' }));
    const calls = lambda.calls.length;

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, {
      ...deps,
      bodyBudget: new BodyBudget(1024 * 1024),
    });

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(
      /^Invoke orders-api:7: body not read: it would take this invocation past its body budget \(1 MiB/,
    );
    expect(lambda.calls.length).toBe(calls);
  });

  it('is an error naming ResourceNotFoundException when the function does not exist', async () => {
    const o = await measureOnce({ type: 'lambda-invoke', functionName: 'no-such-function' }, preTraffic, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/^Invoke no-such-function:7: ResourceNotFoundException: Function not found/);
  });

  it('reports throttling as an error, never a pass', async () => {
    lambda.define('orders-api', () => ({ payload: '{}' }));
    lambda.failNext({ type: 'TooManyRequestsException', status: 429, message: 'Rate exceeded' }, 3);

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('TooManyRequestsException: Rate exceeded');
  });

  it('is an error when the role may not invoke the function, and names the SmokeTestFunctions parameter', async () => {
    lambda.define('orders-api', () => ({ payload: '{}' }));
    lambda.failNext({
      type: 'AccessDeniedException',
      status: 403,
      message: 'User is not authorized to perform: lambda:InvokeFunction on resource: orders-api:7',
    });

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/^Invoke orders-api:7: AccessDeniedException: User is not authorized/);
    expect(o.message).toContain("stack's SmokeTestFunctions parameter: allow it there");
  });

  it('names no parameter for an error that is not a denial', async () => {
    lambda.define('orders-api', () => ({ payload: '{}' }));
    lambda.failNext({ type: 'ServiceException', status: 500, message: 'internal' }, 3);

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).not.toContain('SmokeTestFunctions');
  });

  it('is an error when the invocation outlasts the measurement', async () => {
    lambda.define('orders-api', () => ({ payload: '{}', delayMs: 3_000 }));
    const started = Date.now();

    const o = await measureOnce({ type: 'lambda-invoke' }, preTraffic, deps, 300);

    expect(o.outcome).toBe('error');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('lambda-invoke plan fields', () => {
  it('names bad expectations', () => {
    expect(planProblems({ type: 'lambda-invoke', expect: { bodyMatches: '(', status: 200 } })).toEqual([
      expect.stringMatching(/^checks\.subject\.expect\.status: unknown field/),
      expect.stringMatching(/^checks\.subject\.expect\.bodyMatches: invalid regular expression/),
    ]);
  });

  it('fails to build, naming the field, when the deployment is not a Lambda deployment', async () => {
    await expect(measureOnce({ type: 'lambda-invoke' }, { cluster: 'c' }, deps)).rejects.toThrow(
      /checks\.subject\.functionName: \{\{functionName\}\} has no value for this deployment/,
    );
  });
});
