import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './run-cli.ts';

/** The function each folder of events/ is a sample for. */
const functionOf: Readonly<Record<string, string>> = {
  'codedeploy-hook': 'CodeDeployHookFunction',
  'ecs-lifecycle-hook': 'EcsLifecycleHookFunction',
  'ecs-pause-gate': 'EcsPauseGateFunction',
  'codedeploy-wait-gate': 'CodeDeployWaitGateFunction',
  'proton-pipeline-guard': 'ProtonPipelineGuardFunction',
  'durable-analysis': 'DurableAnalysisFunction',
};

/** What each sample ends in with a healthy green: the verdict line, and what reached the fakes. */
function expected(
  folder: string,
  file: string,
  event: Record<string, unknown>,
): { verdict: RegExp; delivered: RegExp } {
  const detail = (event.detail ?? {}) as Record<string, string>;
  switch (folder) {
    case 'codedeploy-hook':
      return {
        verdict: /^local verdict: Succeeded/m,
        delivered: new RegExp(
          `PutLifecycleEventHookExecutionStatus \\{"deploymentId":"${String(event.DeploymentId)}","lifecycleEventHookExecutionId":"${String(event.LifecycleEventHookExecutionId)}","status":"Succeeded"\\}`,
        ),
      };
    case 'ecs-lifecycle-hook':
      return { verdict: /^local verdict: SUCCEEDED/m, delivered: /returned to ECS: hookStatus SUCCEEDED/ };
    case 'ecs-pause-gate':
      return {
        verdict: /^local verdict: CONTINUE/m,
        delivered: new RegExp(`ContinueServiceDeployment .*"hookId":"${detail.hookId}","action":"CONTINUE"`),
      };
    case 'codedeploy-wait-gate':
      if (detail.state === 'SUCCESS') {
        return {
          verdict: /^local verdict: no decision \(ignored\): state SUCCESS signals no wait/m,
          delivered: /nothing/,
        };
      }
      return {
        verdict: /^local verdict: Succeeded \(continued\)/m,
        delivered: new RegExp(
          `ContinueDeployment \\{"deploymentId":"${detail.deploymentId}","deploymentWaitType":"${detail.state === 'READY' ? 'READY_WAIT' : 'TERMINATION_WAIT'}"\\}`,
        ),
      };
    case 'durable-analysis':
      // A start payload, which an entry function sends once it has confirmed the deployment: --local runs
      // entry functions and says so (exit 2); the durable function's own run is test/cli/invoke-durable.test.ts.
      return { verdict: /--local runs the entry functions/, delivered: /./ };
    case 'proton-pipeline-guard':
      return { verdict: /^local verdict: Succeeded \(passed\)/m, delivered: /delivered:\n {2}nothing/ };
    default:
      throw new Error(`events/${folder}/${file}: no function for this folder; add it to functionOf`);
  }
}

const samples = readdirSync('events', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join('events', d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ folder: d.name, file: f, path: `events/${d.name}/${f}` })),
  );

// A shell that points at AWS must not matter: --local uses its own fakes only.
const hostileShell = {
  AWS_PROFILE: 'production',
  AWS_REGION: 'eu-central-1',
  AWS_ENDPOINT_URL: 'http://192.0.2.1:1',
  GREENLIGHT_PLAN: 'not: a plan',
};

const invokeLocal = (args: readonly string[]) =>
  run('npm', ['run', '--silent', 'invoke', '--', '--local', ...args], { env: hostileShell, timeoutMs: 90_000 });

describe('npm run invoke -- --local: every sample event runs as shipped, without AWS', () => {
  it('finds the samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(16);
  });

  for (const s of samples) {
    it(`${s.path}: runs the real handler against the fakes and ends in its verdict`, async () => {
      const event = JSON.parse(readFileSync(s.path, 'utf8')) as Record<string, unknown>;
      const want = expected(s.folder, s.file, event);
      const logicalId = functionOf[s.folder] as string;

      const r = await invokeLocal(['--no-moto', logicalId, s.path]);

      if (s.folder === 'durable-analysis') {
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(want.verdict);
        return;
      }
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      expect(r.stderr).toMatch(/local \(loopback only, no AWS account\):/);
      expect(r.stderr).toMatch(want.verdict);
      expect(r.stderr.slice(r.stderr.indexOf('\nlocal verdict:'))).toMatch(want.delivered);
    }, 90_000);
  }
});

describe('npm run invoke -- --local --green-fails', () => {
  it('a CodeDeploy hook reports Failed to CodeDeploy, naming the failed probe', async () => {
    const r = await invokeLocal([
      '--no-moto',
      '--green-fails',
      'CodeDeployHookFunction',
      'events/codedeploy-hook/ecs-after-allow-test-traffic.json',
    ]);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'Failed', hook: 'AfterAllowTestTraffic' });
    expect(r.stderr).toMatch(/^local verdict: Failed: green-health: fail: .*status 500, expected 200/m);
    expect(r.stderr).toMatch(/PutLifecycleEventHookExecutionStatus .*"status":"Failed"/);
  }, 90_000);

  it('the PAUSE gate rolls the deployment back (ContinueServiceDeployment ROLLBACK)', async () => {
    const r = await invokeLocal([
      '--no-moto',
      '--green-fails',
      'EcsPauseGateFunction',
      'events/ecs-pause-gate/hook-awaiting-action.json',
    ]);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^local verdict: ROLLBACK/m);
    expect(r.stderr).toMatch(/ContinueServiceDeployment .*"action":"ROLLBACK"/);
  }, 90_000);

  it('a SAM PreTraffic hook fails when the new version throws', async () => {
    const r = await invokeLocal([
      '--no-moto',
      '--green-fails',
      'CodeDeployHookFunction',
      'events/codedeploy-hook/lambda-before-allow-traffic.json',
    ]);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^local verdict: Failed: smoke: fail: .*function error Unhandled/m);
  }, 90_000);
});

describe('npm run invoke -- --local, options', () => {
  it('runs an ECS sample through moto_server in the region its ARNs name', async () => {
    const r = await invokeLocal(['EcsLifecycleHookFunction', 'events/ecs-lifecycle-hook/test-traffic-shift.json']);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/load balancer \S+\.us-west-2\.elb\.amazonaws\.com: .*\((moto_server|built-in ELBv2)/);
    expect(JSON.parse(r.stdout)).toMatchObject({ hookStatus: 'SUCCEEDED' });
  }, 90_000);

  it('takes the user plan with --plan, and --hook for an event whose file name does not say it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-local-'));
    const plan = join(dir, 'plan.yaml');
    const event = join(dir, 'my-event.json');
    await writeFile(
      plan,
      'version: 1\nhooks:\n  BeforeAllowTraffic: [version]\nchecks:\n  version:\n    type: http\n    url: "{{testListenerUrl}}/version"\n    expect: { json: { version: blue } }\n',
    );
    await writeFile(event, JSON.stringify({ DeploymentId: 'd-MINE00001', LifecycleEventHookExecutionId: 'exec-mine' }));

    const r = await invokeLocal([
      '--no-moto',
      '--plan',
      plan,
      '--hook',
      'BeforeAllowTraffic',
      'CodeDeployHookFunction',
      event,
    ]);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /CodeDeploy ECS deployment d-MINE00001 .*hook BeforeAllowTraffic in progress \(hook from --hook\)/,
    );
    // The plan expects blue where green answers: the user's plan decided, not the built-in one.
    expect(r.stderr).toMatch(/^local verdict: Failed: version: fail/m);
  }, 90_000);

  it('exits 2 naming --hook when a CodeDeploy event file does not say its hook', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-local-'));
    const event = join(dir, 'event.json');
    await writeFile(event, JSON.stringify({ DeploymentId: 'd-MINE00002', LifecycleEventHookExecutionId: 'x' }));

    const r = await invokeLocal(['--no-moto', 'CodeDeployHookFunction', event]);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot tell the CodeDeploy hook from event\.json .*add --hook/);
  }, 90_000);

  it('refuses --green-fails without --local', async () => {
    const r = await run('npm', [
      'run',
      '--silent',
      'invoke',
      '--',
      '--green-fails',
      'CodeDeployHookFunction',
      'events/codedeploy-hook/ecs-after-install.json',
    ]);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--green-fails needs --local/);
  });
});
