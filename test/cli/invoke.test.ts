import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeDeployFake, ecsDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type Elbv2StandIn, startElbv2StandIn } from '../../local/fakes/elbv2.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { greenlight, run } from './run-cli.ts';

const plan = JSON.stringify({
  version: 1,
  hooks: { AfterAllowTestTraffic: ['green-health'] },
  checks: { 'green-health': { type: 'http', url: '{{testListenerUrl}}/health', count: 2, interval: '100ms' } },
});

let codedeploy: CodeDeployFake;
let elb: Elbv2StandIn;
let green: HttpTarget;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [codedeploy, green] = await Promise.all([startCodeDeployFake(), startHttpTarget()]);
  elb = await startElbv2StandIn({ name: 'gl-invoke', prodPort: green.port, testPort: green.port });
  env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.url,
    GREENLIGHT_RESOLVE: `${elb.loadBalancer.dnsName}=127.0.0.1`,
    GREENLIGHT_PLAN: plan,
  };
});

afterAll(async () => {
  await Promise.all([codedeploy?.close(), elb?.close(), green?.close()]);
});

/** The deployment that events/codedeploy-hook/ecs-after-allow-test-traffic.json names. */
function sampleDeployment(): void {
  codedeploy.addDeployment(
    ecsDeployment({
      deploymentId: 'd-EXAMPLE03',
      hook: 'AfterAllowTestTraffic',
      testListenerArn: elb.loadBalancer.testListenerArn,
      prodListenerArn: elb.loadBalancer.prodListenerArn,
    }),
  );
  codedeploy.hookStatuses.clear();
}

describe('npm run invoke (Docker-less sam local invoke)', () => {
  it('runs CodeDeployHookFunction from template.yaml with a sample event, and the fake receives its report', async () => {
    sampleDeployment();
    green.hits.length = 0;

    const r = await run(
      'npm',
      [
        'run',
        '--silent',
        'invoke',
        '--',
        'CodeDeployHookFunction',
        'events/codedeploy-hook/ecs-after-allow-test-traffic.json',
      ],
      { env, timeoutMs: 60_000 },
    );

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'Succeeded',
      hook: 'AfterAllowTestTraffic',
      delivery: 'reported',
    });
    expect(codedeploy.hookStatuses.get('5f8e0f4c-7d3b-4b1e-9c2a-000000000003')).toBe('Succeeded');
    expect(green.hits).toEqual(['/health', '/health']);
    // Logs are the function's JSON lines, on stderr, with the Lambda context in them.
    expect(r.stderr).toMatch(/"function_name":"CodeDeployHook_greenlight-local"/);
    expect(r.stderr).toMatch(/"cold_start":true/);
  }, 60_000);

  it('gives a function that carries state a local state key: a forged hookDetails state fails on its MAC', async () => {
    const sample = JSON.parse(
      await readFile('events/ecs-lifecycle-hook/post-test-traffic-shift-with-hook-details.json', 'utf8'),
    );
    const forged = { ...sample, hookDetails: { greenlightState: { v: 2, mac: 'f'.repeat(64) } } };
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-invoke-test-'));
    const eventFile = join(dir, 'forged.json');
    await writeFile(eventFile, JSON.stringify(forged));
    const ecsPlan = JSON.stringify({ version: 1, hooks: { '*': [] }, checks: {} });

    const r = await run('npm', ['run', '--silent', 'invoke', '--', 'EcsLifecycleHookFunction', eventFile], {
      env: { ...env, GREENLIGHT_PLAN: ecsPlan },
      timeoutMs: 60_000,
    });

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/state key: Secrets Manager stand-in at http:\/\/127\.0\.0\.1:\d+/);
    const answer = JSON.parse(r.stdout) as {
      hookStatus: string;
      hookDetails: { greenlightResult: { reasons: string[] } };
    };
    expect(answer.hookStatus).toBe('FAILED');
    expect(answer.hookDetails.greenlightResult.reasons.join('\n')).toMatch(/state: missing field|state\.mac/);
    expect(answer.hookDetails.greenlightResult.reasons.join('\n')).not.toMatch(/cannot read the state key/);
  }, 60_000);

  it('reports Failed through the same path when green fails', async () => {
    sampleDeployment();
    green.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });

    const r = await greenlight(
      ['invoke', 'CodeDeployHookFunction', 'events/codedeploy-hook/ecs-after-allow-test-traffic.json'],
      { env, timeoutMs: 60_000 },
    );
    green.respond((_req, res) => res.end('ok'));

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'Failed' });
    expect(codedeploy.hookStatuses.get('5f8e0f4c-7d3b-4b1e-9c2a-000000000003')).toBe('Failed');
  }, 60_000);

  it('exits 2 naming the functions when the logical id is not in the template', async () => {
    const r = await greenlight([
      'invoke',
      'NoSuchFunction',
      'events/codedeploy-hook/ecs-after-allow-test-traffic.json',
    ]);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /NoSuchFunction is not a function in template\.yaml \(functions: .*CodeDeployHookFunction/,
    );
  });

  it('exits 2 when the event file cannot be read', async () => {
    const r = await greenlight(['invoke', 'CodeDeployHookFunction', 'events/nope.json']);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot use event events\/nope\.json: ENOENT/);
  });

  it('explains itself with --help, through npm run too', async () => {
    const r = await run('npm', ['run', '--silent', 'invoke', '--', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: greenlight invoke <LogicalId> <event\.json>/);
  });
});
