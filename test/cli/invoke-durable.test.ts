import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeDeployFake, lambdaDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { run } from './run-cli.ts';

/**
 * `npm run invoke` follows a long analysis to its verdict: the durable function runs on LocalDurableTestRunner
 * with skipped time (local/durable-invoke.ts), started by the entry function through the real Lambda adapter
 * against a loopback Invoke stand-in, or invoked directly with a start payload.
 */

let codedeploy: CodeDeployFake;
let green: HttpTarget;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [codedeploy, green] = await Promise.all([startCodeDeployFake(), startHttpTarget()]);
  env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    // A 30-minute watch after AllowTraffic, a measurement a minute: longer than one invocation.
    GREENLIGHT_PLAN: JSON.stringify({
      version: 1,
      allow: { addresses: ['loopback'] },
      hooks: { AfterAllowTraffic: ['bake'] },
      checks: { bake: { type: 'http', url: `${green.url}/health`, count: 30, interval: '1m', timeout: '2s' } },
    }),
  };
});

afterAll(async () => {
  await Promise.all([codedeploy?.close(), green?.close()]);
});

/** The deployment that events/codedeploy-hook/lambda-after-allow-traffic.json names. */
function sampleDeployment(): void {
  codedeploy.addDeployment(lambdaDeployment({ deploymentId: 'd-EXAMPLE07', hook: 'AfterAllowTraffic' }));
  codedeploy.hookStatuses.clear();
  green.hits.length = 0;
}

const executionId = '5f8e0f4c-7d3b-4b1e-9c2a-000000000007';

describe('npm run invoke with durable executions (time skipped)', () => {
  it('CodeDeployHookFunction hands a 30-minute bake to the durable function, which runs here to its verdict', async () => {
    sampleDeployment();

    const r = await run(
      'npm',
      [
        'run',
        '--silent',
        'invoke',
        '--',
        'CodeDeployHookFunction',
        'events/codedeploy-hook/lambda-after-allow-traffic.json',
      ],
      { env, timeoutMs: 90_000 },
    );

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ delivery: 'analysis-started' });
    expect(r.stderr).toMatch(/durable starts: Lambda Invoke stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr.match(/waiting 60 s \(durable wait, no compute\)/g)).toHaveLength(29);
    expect(r.stderr).toMatch(/durable execution \{"execution":"gl-codedeploy-hook-[0-9a-f]{40}","status":"SUCCEEDED"/);
    expect(codedeploy.hookStatuses.get(executionId)).toBe('Succeeded');
    expect(green.hits).toHaveLength(30);
  }, 90_000);

  it('DurableAnalysisFunction runs a start payload on LocalDurableTestRunner and prints the execution result', async () => {
    sampleDeployment();

    const r = await run(
      'npm',
      [
        'run',
        '--silent',
        'invoke',
        '--',
        'DurableAnalysisFunction',
        'events/durable-analysis/codedeploy-hook-start.json',
      ],
      { env, timeoutMs: 90_000 },
    );

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      result: { result: 'decided', analysis: 'pass', decision: 'Succeeded', rounds: 30 },
    });
    expect(r.stderr).toMatch(/step open/);
    expect(r.stderr).toMatch(/\+29\.\d min {2}step measure-29/);
    expect(codedeploy.hookStatuses.get(executionId)).toBe('Succeeded');
  }, 90_000);
});
