import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeDeployAdapter } from '../../lib/aws/codedeploy.ts';
import { durableExecutionName, runDurableGate } from '../../lib/gate/durable.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import type { StatusSnapshot } from '../../lib/status/snapshot.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';
import { type CodeDeployFake, lambdaDeployment, startCodeDeployFake } from '../../local/fakes/codedeploy.ts';
import { type LambdaDurableFake, startLambdaDurableFake } from '../../local/fakes/lambda-durable.ts';
import { bin, greenlight, root } from './run-cli.ts';

/**
 * `greenlight status --watch` follows a deployment as a user would run it: in its own process, pointed at
 * "AWS" with AWS_ENDPOINT_URL_CODEDEPLOY and AWS_ENDPOINT_URL_LAMBDA. Here AWS is the project's CodeDeploy
 * fake (moto_server has no GetDeploymentTarget) and the Lambda durable-execution fake, fed step by step by
 * a real durable execution: runDurableGate with the real CodeDeploy hook trigger and adapter, on the SDK's
 * LocalDurableTestRunner in real time, probing a local green. The test plays CodeDeploy around it: the
 * hook InProgress, then the deployment ending as the reported status says. Loopback only, bounded.
 */

const durableFunction = 'greenlight-durable-analysis';
const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, appendKeys() {} };

let codedeploy: CodeDeployFake;
let lambda: LambdaDurableFake;

beforeAll(async () => {
  codedeploy = await startCodeDeployFake();
  lambda = await startLambdaDurableFake();
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
});
afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  await codedeploy?.close();
  await lambda?.close();
});

/** What `greenlight status` runs with: the fakes as AWS, every other AWS endpoint a closed port. */
function cliEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|GREENLIGHT_)/.test(k)) env[k] = v;
  return {
    ...env,
    NO_COLOR: '1',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'status-test',
    AWS_SECRET_ACCESS_KEY: 'status-test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
  };
}

interface Watch {
  /** Resolves when the process exits. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** When (Date.now()) the first stdout chunk matching `pattern` arrived, if one did. */
  firstSeen(pattern: RegExp): number | undefined;
}

/** `greenlight <args>` in its own process, recording when each piece of stdout arrived. */
function watch(args: readonly string[], timeoutMs = 45_000): Watch {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: cliEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: { at: number; text: string }[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push({ at: Date.now(), text: c.toString() }));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: chunks.map((c) => c.text).join(''), stderr });
    });
  });
  return {
    done,
    firstSeen(pattern) {
      let text = '';
      for (const c of chunks) {
        text += c.text;
        if (pattern.test(text)) return c.at;
      }
      return undefined;
    },
  };
}

/** A local green whose /health answers 200, or 500 from its `failFrom`-th request on. */
async function green(failFrom = Number.POSITIVE_INFINITY) {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.statusCode = requests >= failFrom ? 500 : 200;
    res.end(requests >= failFrom ? 'degraded' : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A CodeDeploy Lambda deployment at AfterAllowTraffic, judged by a durable execution that takes `count`
 * measurements 1.5 s apart (each round a step, a durable wait between); then CodeDeploy ends the
 * deployment as the hook was reported. Returns when the deployment has ended.
 */
async function rehearseDurableHook(o: { deploymentId: string; url: string; count: number; startDelayMs: number }) {
  const now = Date.now();
  const deployment = lambdaDeployment({ deploymentId: o.deploymentId, hook: 'AfterAllowTraffic' });
  deployment.deploymentInfo.createTime = now / 1000 - 30;
  const target = deployment.targets['my-function:live'] as {
    lambdaTarget: {
      status: string;
      lifecycleEvents: { lifecycleEventName: string; status: string; startTime?: number }[];
    };
  };
  const hookEvent = target.lambdaTarget.lifecycleEvents.find((e) => e.lifecycleEventName === 'AfterAllowTraffic');
  if (hookEvent) hookEvent.startTime = now / 1000 - 20;
  codedeploy.addDeployment(deployment);

  // The watcher is already reading: the hook is InProgress and no analysis exists yet.
  await new Promise((r) => setTimeout(r, o.startDelayMs));

  const plan = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    checks: {
      'green-health': {
        type: 'http',
        url: o.url,
        expect: { status: 200 },
        count: o.count,
        interval: '2500ms',
        timeout: '300ms',
      },
    },
    hooks: { AfterAllowTraffic: ['green-health'] },
  });
  const client = new CodeDeployClient({
    endpoint: codedeploy.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const trigger = codeDeployHookTrigger({
    codedeploy: codeDeployAdapter(() => client),
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
    clock: systemClock,
    log: silent,
    settings: {},
  });
  const analyse = runDurableGate(trigger, {
    loadPlan: async () => plan,
    checks: { clock: systemClock },
    clock: systemClock,
    log: silent,
    reserve: '5s',
  });
  const executionId = randomUUID();
  const payload = {
    v: 1,
    trigger: 'codedeploy-hook',
    event: { DeploymentId: o.deploymentId, LifecycleEventHookExecutionId: executionId },
  };
  const recorded = lambda.start({
    functionName: durableFunction,
    name: durableExecutionName('codedeploy-hook', `${o.deploymentId}/${executionId}`),
    input: payload,
  });
  const runner = new LocalDurableTestRunner({
    handlerFunction: withDurableExecution((event: unknown, ctx) => analyse(event, recorded.observe(ctx))),
  });
  const execution = await runner.run({ payload });
  const result = execution.getResult();
  if (execution.getStatus() === 'SUCCEEDED') recorded.succeed(result);
  else recorded.fail(new Error(execution.getError().errorMessage ?? 'failed'));
  const executionEndedAt = Date.now();

  // CodeDeploy acts on what the hook reported.
  const reported = codedeploy.hookStatuses.get(executionId);
  await new Promise((r) => setTimeout(r, 400));
  if (hookEvent) hookEvent.status = reported ?? 'Failed';
  target.lambdaTarget.status = reported === 'Succeeded' ? 'Succeeded' : 'Failed';
  deployment.deploymentInfo.status = reported === 'Succeeded' ? 'Succeeded' : 'Failed';
  return { reported, executionEndedAt, result };
}

const deploymentId = () => `d-${randomUUID().replace(/-/g, '').slice(0, 9).toUpperCase()}`;

describe('greenlight status', () => {
  it('--watch follows a durable hook analysis live from InProgress to the verdict and exits 0 once the deployment succeeded', async () => {
    const g = await green();
    try {
      const id = deploymentId();
      const w = watch([
        'status',
        '--watch',
        '--deployment',
        id,
        '--durable-function',
        durableFunction,
        '--interval',
        '200ms',
        '--timeout',
        '40s',
      ]);
      // The deployment exists before the watcher's first read.
      const rehearsal = rehearseDurableHook({ deploymentId: id, url: g.url, count: 3, startDelayMs: 1_000 });
      const [run, outcome] = await Promise.all([w.done, rehearsal]);

      expect(outcome.reported).toBe('Succeeded');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      // The hook the deployment is at, with CodeDeploy's hour, before any analysis exists.
      expect(run.stdout).toMatch(/AfterAllowTraffic\s+InProgress \(hour ends in 5\dm \d+s\)/);
      // Which hook, by which plan key, then each measurement once, numbered against the schedule.
      expect(run.stdout).toMatch(
        /▸ AfterAllowTraffic judged by plan key AfterAllowTraffic\s+durable execution gl-codedeploy-hook-/,
      );
      for (const i of [1, 2, 3]) {
        expect(
          run.stdout.match(new RegExp(`green-health\\s+${i}/3\\s+pass\\s+GET http://127\\.0\\.0\\.1:\\d+/health`, 'g')),
        ).toHaveLength(1);
      }
      expect(run.stdout).toMatch(/waiting · 1 round · next measurement in \d+s · verdict due in 5\dm/);
      expect(run.stdout).toMatch(/verdict pass: caller told Succeeded/);
      expect(run.stdout).toMatch(/green-health\s+pass\s+3 of 3\s+0\s+0/);
      expect(run.stdout).toMatch(/AfterAllowTraffic\s+Succeeded/);
      expect(run.stdout).toMatch(new RegExp(`deployment ${id} passed: ${id} Succeeded`));
      // Live: the first measurement was on screen while the execution still ran.
      const first = w.firstSeen(/green-health\s+1\/3/);
      expect(first).toBeDefined();
      expect(first as number).toBeLessThan(outcome.executionEndedAt);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('--watch --json writes one JSON document per change and ends on the failed verdict and deployment, exit 1', async () => {
    const g = await green(2);
    try {
      const id = deploymentId();
      const w = watch([
        'status',
        '-w',
        '--json',
        '--deployment',
        id,
        '--durable-function',
        durableFunction,
        '--interval',
        '200ms',
      ]);
      const [run, outcome] = await Promise.all([
        w.done,
        rehearseDurableHook({ deploymentId: id, url: g.url, count: 3, startDelayMs: 600 }),
      ]);

      expect(outcome.reported).toBe('Failed');
      expect(run.code).toBe(1);
      const docs = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as StatusSnapshot);
      expect(docs.length).toBeGreaterThanOrEqual(3);
      expect(docs.every((d) => d.v === 1)).toBe(true);
      const last = docs.at(-1) as StatusSnapshot;
      expect(last).toMatchObject({
        target: { kind: 'deployment', deploymentId: id },
        done: true,
        outcome: 'fail',
        deployments: [{ source: 'codedeploy', id, status: 'Failed', group: 'my-sam-app/my-function-group' }],
      });
      expect(last.analyses).toHaveLength(1);
      expect(last.analyses[0]).toMatchObject({
        hook: 'AfterAllowTraffic',
        planKey: 'AfterAllowTraffic',
        deploymentId: id,
        phase: 'decided',
        verdict: { status: 'fail', decision: 'Failed' },
        checks: [{ name: 'green-health', status: 'fail', count: 3, taken: 2, passes: 1, failures: 1 }],
      });
      // Along the way: the hook judged while it ran, with measurements left.
      const running = docs.find((d) => d.analyses[0]?.phase === 'waiting');
      expect(running?.judging).toEqual([
        { deploymentId: id, hook: 'AfterAllowTraffic', execution: last.analyses[0]?.execution.name },
      ]);
      expect(running?.analyses[0]?.checks[0]).toMatchObject({ status: 'running', taken: 1, left: 2 });
      // The human view went to stderr.
      expect(run.stderr).toMatch(/green-health\s+2\/3\s+fail/);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('without --watch prints one snapshot; --json gives the same as one document', async () => {
    const id = deploymentId();
    codedeploy.addDeployment(lambdaDeployment({ deploymentId: id, hook: 'BeforeAllowTraffic' }));

    const page = await greenlight(['status', '--deployment', id], { env: cliEnvironment() });
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(
      new RegExp(`CodeDeploy Lambda deployment ${id}\\s+my-sam-app/my-function-group\\s+InProgress`),
    );
    expect(page.stdout).toMatch(/BeforeAllowTraffic\s+InProgress/);
    expect(page.stdout).toMatch(/judging BeforeAllowTraffic of d-\w+ \(no durable execution/);
    expect(page.stdout).toMatch(/note: no durable analysis function given/);

    const doc = await greenlight(['status', '--json', '--deployment', id], { env: cliEnvironment() });
    expect(doc.code).toBe(0);
    expect(JSON.parse(doc.stdout)).toMatchObject({
      v: 1,
      done: false,
      outcome: 'pending',
      judging: [{ deploymentId: id, hook: 'BeforeAllowTraffic' }],
      analyses: [],
    });
  }, 30_000);

  it('a deployment that does not exist: exit 2, CodeDeploy’s error named', async () => {
    const r = await greenlight(['status', '--deployment', 'd-NOPE00000', '--watch', '--interval', '100ms'], {
      env: cliEnvironment(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/could not read deployment d-NOPE00000: DeploymentDoesNotExistException/);
  }, 30_000);

  it('usage: one target is required, --cluster needs --service, --interval is a duration', async () => {
    for (const args of [
      [],
      ['--cluster', 'c'],
      ['--deployment', 'd-1', '--function', 'f'],
      ['--deployment', 'd-1', '--interval', 'soon'],
    ]) {
      const r = await greenlight(['status', ...args], { env: cliEnvironment() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage: greenlight status/);
    }
  }, 30_000);
});
