import { readFileSync } from 'node:fs';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeDeployDeployment, CodeDeployPort, DeploymentWaitType } from '../../lib/aws/codedeploy.ts';
import type { DurableStartPort } from '../../lib/aws/durable-start.ts';
import type { EcsHookAction, EcsPort } from '../../lib/aws/ecs.ts';
import type { Clock } from '../../lib/core/types.ts';
import { type DurableOutcome, durableExecutionName, runDurableGate } from '../../lib/gate/durable.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import type { Trigger } from '../../lib/gate/trigger.ts';
import { type Plan, parsePlan } from '../../lib/plan/schema.ts';
import { codeDeployWaitGateTrigger, maxWatchLooks, watchIntervalMs } from '../../lib/triggers/codedeploy/wait-gate.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';
import { green, skippingClock } from '../support/durable-time.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { clock as realClock, quietLog as silent } from '../support/trigger-fakes.ts';

/**
 * The ECS PAUSE gate and the CodeDeploy wait gate on Lambda durable executions, run by the SDK's own
 * LocalDurableTestRunner with skipped time (as test/gate/durable.test.ts runs the CodeDeploy hook): a
 * 2-hour PAUSE bake, a ready-wait bake, the termination-wait watch that looks durably until the wait
 * begins (and gives up at the watch limit), each decision delivered once before the hook's deadline,
 * and a start payload that names a hook but decides nothing (the execution confirms it with AWS).
 * AWS is in-memory fakes whose state follows the test clock; green is a real local HTTP server.
 */

const minute = 60_000;

function bakePlan(hook: string, url: string, count: number, interval: string): Plan {
  return parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    checks: { 'green-health': { type: 'http', url, expect: { status: 200 }, count, interval, timeout: '2s' } },
    hooks: { [hook]: ['green-health'] },
  });
}

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

/** Runs `payload` on a durable execution of `trigger`, as functions/durable-analysis does. */
async function runDurable<I, H, D, A>(trigger: Trigger<I, H, D, A>, clock: Clock, plan: Plan, payload: unknown) {
  const analyse = runDurableGate(trigger, {
    loadPlan: async () => plan,
    checks: { clock },
    clock,
    log: silent,
    reserve: '5s',
  });
  const runner = new LocalDurableTestRunner({
    handlerFunction: withDurableExecution((p: unknown, ctx) => analyse(p, ctx)),
  });
  const execution = await runner.run({ payload });
  const ops = execution.getOperations().map((op) => `${op.getType()}:${op.getName()}`);
  return { execution, ops, result: execution.getResult() as DurableOutcome };
}

// --- ECS PAUSE hooks -------------------------------------------------------------------------------------

const pauseEvent = JSON.parse(
  readFileSync(new URL('../../events/ecs-pause-gate/hook-awaiting-action.json', import.meta.url), 'utf8'),
) as { detail: Record<string, string> } & Record<string, unknown>;
const hookId = pauseEvent.detail.hookId as string;
const deploymentArn = pauseEvent.detail.serviceDeploymentArn as string;
const pauseStart = {
  v: 1,
  trigger: 'ecs-pause-gate',
  event: {
    source: 'aws.ecs',
    'detail-type': 'ECS Hook State Change',
    detail: { eventName: 'HOOK_AWAITING_ACTION', hookType: 'PAUSE', hookId, serviceDeploymentArn: deploymentArn },
  },
};

/** ECS with one PAUSE hook awaiting action until `expiresAt`, or until a decision (here or `decideElsewhereAt`). */
function pauseEcs(clock: Clock, o: { expiresAt: number; targetType?: string; decideElsewhereAt?: number }) {
  const continued: { action: EcsHookAction; at: number }[] = [];
  const port: EcsPort = {
    describeServiceDeployment: async (arn) => {
      const elsewhere = o.decideElsewhereAt !== undefined && clock.now() >= o.decideElsewhereAt;
      return {
        serviceDeploymentArn: arn,
        serviceArn: 'arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service',
        clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster',
        status: 'IN_PROGRESS',
        lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
        targetServiceRevisionArn:
          'arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900',
        rolledBack: false,
        hooks: [
          {
            hookId,
            targetType: o.targetType ?? 'PAUSE',
            status: continued.length > 0 || elsewhere ? 'SUCCEEDED' : 'AWAITING_ACTION',
            expiresAt: o.expiresAt,
          },
        ],
      };
    },
    serviceRevisionLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    serviceLoadBalancers: () => Promise.reject(new Error('no load balancer needed')),
    continueServiceDeployment: async ({ action }) => {
      continued.push({ action, at: clock.now() });
    },
  };
  return { port, continued };
}

function pauseTrigger(ecs: EcsPort, clock: Clock) {
  return ecsPauseGateTrigger({
    ecs,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    forwards: { forwardWeights: () => Promise.reject(new Error('no rule needed')) },
    clock,
    log: silent,
    settings: { region: 'us-west-2' },
  });
}

describe('ECS PAUSE hooks on a durable execution (LocalDurableTestRunner, skipped time)', () => {
  it('bakes 2 hours (25 measurements 5 minutes apart) and continues once, before the hook expires', async () => {
    const t0 = Date.UTC(2026, 10, 30, 8);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const ecs = pauseEcs(clock, { expiresAt: t0 + 3 * 60 * minute });
      const plan = bakePlan('POST_TEST_TRAFFIC_SHIFT', g.url, 25, '5m');
      const { result, ops } = await runDurable(pauseTrigger(ecs.port, clock), clock, plan, pauseStart);
      expect(result).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'CONTINUE', rounds: 25 });
      expect(g.hits).toHaveLength(25);
      expect(g.hits.at(-1)).toBeGreaterThanOrEqual(t0 + 120 * minute);
      expect(ecs.continued.map((c) => c.action)).toEqual(['CONTINUE']);
      expect(ecs.continued[0]?.at).toBeLessThan(t0 + 3 * 60 * minute - 30_000);
      expect(ops.filter((o) => o.startsWith('STEP:measure-'))).toHaveLength(25);
      expect(ops.filter((o) => o.startsWith('WAIT:'))).toHaveLength(24);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('rolls back at the first failed measurement when green degrades at minute 70 of the bake', async () => {
    const t0 = Date.UTC(2026, 10, 30, 9);
    const clock = skippingClock(t0);
    const g = await green(clock, t0 + 70 * minute);
    try {
      const ecs = pauseEcs(clock, { expiresAt: t0 + 3 * 60 * minute });
      const plan = bakePlan('POST_TEST_TRAFFIC_SHIFT', g.url, 25, '5m');
      const { result } = await runDurable(pauseTrigger(ecs.port, clock), clock, plan, pauseStart);
      expect(result).toMatchObject({ result: 'decided', analysis: 'fail', decision: 'ROLLBACK' });
      expect(g.hits).toHaveLength(15);
      expect(ecs.continued.map((c) => c.action)).toEqual(['ROLLBACK']);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('rolls back, delivered at once and measuring nothing, when the schedule cannot end before the hook expires', async () => {
    const t0 = Date.UTC(2026, 10, 30, 10);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const ecs = pauseEcs(clock, { expiresAt: t0 + 60 * minute });
      const plan = bakePlan('POST_TEST_TRAFFIC_SHIFT', g.url, 25, '5m');
      const { result } = await runDurable(pauseTrigger(ecs.port, clock), clock, plan, pauseStart);
      expect(result).toMatchObject({ result: 'decided', decision: 'ROLLBACK' });
      expect(result.reasons.join()).toMatch(/must have its verdict within 59\.\d min/);
      expect(g.hits).toHaveLength(0);
      expect(ecs.continued.map((c) => c.action)).toEqual(['ROLLBACK']);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('decides nothing on a start payload whose hook ECS reports as no PAUSE hook: the payload only names a hook', async () => {
    const t0 = Date.UTC(2026, 10, 30, 11);
    const clock = skippingClock(t0);
    const ecs = pauseEcs(clock, { expiresAt: t0 + 60 * minute, targetType: 'AWS_LAMBDA' });
    const plan = bakePlan('POST_TEST_TRAFFIC_SHIFT', 'http://127.0.0.1:9/none', 1, '1m');
    const { result, ops } = await runDurable(pauseTrigger(ecs.port, clock), clock, plan, pauseStart);
    expect(result).toMatchObject({ result: 'closed' });
    expect(result.reasons.join()).toMatch(/is a AWS_LAMBDA hook, not a PAUSE hook/);
    expect(ecs.continued).toEqual([]);
    expect(ops).toEqual(['STEP:open']);
  }, 60_000);

  it('does not act when the hook was decided elsewhere during the bake', async () => {
    const t0 = Date.UTC(2026, 10, 30, 12);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const ecs = pauseEcs(clock, { expiresAt: t0 + 3 * 60 * minute, decideElsewhereAt: t0 + 30 * minute });
      const plan = bakePlan('POST_TEST_TRAFFIC_SHIFT', g.url, 12, '5m');
      const { result } = await runDurable(pauseTrigger(ecs.port, clock), clock, plan, pauseStart);
      expect(result).toMatchObject({ result: 'closed', analysis: 'pass' });
      expect(result.reasons.join()).toMatch(/the hook is SUCCEEDED, not AWAITING_ACTION/);
      expect(ecs.continued).toEqual([]);
    } finally {
      await g.close();
    }
  }, 60_000);
});

// --- CodeDeploy blue/green waits -------------------------------------------------------------------------

const deploymentId = 'd-WAITDUR01';

/**
 * CodeDeploy with one EC2 blue/green deployment created at `createdAt`: Ready (READY_WAIT) until a
 * decision, or in progress with its termination wait beginning at `terminationBeginsAt`.
 */
function waitCodeDeploy(
  clock: Clock,
  o: {
    createdAt: number;
    wait: DeploymentWaitType;
    terminationBeginsAt?: number;
    readyWaitMinutes?: number;
    terminationWaitMinutes?: number;
    creator?: string;
  },
) {
  const decisions: { call: 'ContinueDeployment' | 'StopDeployment'; wait?: DeploymentWaitType; at: number }[] = [];
  const deployment = (): CodeDeployDeployment => {
    const decided = decisions.length > 0;
    const begun = o.terminationBeginsAt !== undefined && clock.now() >= o.terminationBeginsAt;
    return {
      deploymentId,
      applicationName: 'app',
      deploymentGroupName: 'group',
      computePlatform: 'Server',
      deploymentType: 'BLUE_GREEN',
      creator: o.creator ?? 'user',
      createTime: o.createdAt,
      testListenerArns: [],
      prodListenerArns: [],
      blueGreen: {
        readyAction: 'STOP_DEPLOYMENT',
        readyWaitMinutes: o.readyWaitMinutes ?? 60,
        terminationAction: 'TERMINATE',
        terminationWaitMinutes: o.terminationWaitMinutes ?? 60,
      },
      status: o.wait === 'READY_WAIT' ? (decided ? 'InProgress' : 'Ready') : decided ? 'Succeeded' : 'InProgress',
      instanceTerminationWaitTimeStarted: begun,
    };
  };
  const port: CodeDeployPort = {
    getDeployment: async () => deployment(),
    listDeploymentTargets: async () => [],
    getDeploymentTarget: () => Promise.reject(new Error('no targets read on EC2')),
    putLifecycleEventHookStatus: () => Promise.reject(new Error('not a wait call')),
    continueDeployment: async ({ waitType }) => {
      decisions.push({ call: 'ContinueDeployment', wait: waitType, at: clock.now() });
      return 'continued';
    },
    stopDeploymentWithRollback: async () => {
      decisions.push({ call: 'StopDeployment', at: clock.now() });
      return { result: 'stopping', status: 'Pending' };
    },
  };
  return { port, decisions };
}

function waitTrigger(cd: CodeDeployPort, clock: Clock, settings: { pollInterval?: string; watchLimit?: string } = {}) {
  return codeDeployWaitGateTrigger({
    codedeploy: cd,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    clock,
    log: silent,
    settings,
  });
}

const waitStart = (state: 'READY' | 'START') => ({
  v: 1,
  trigger: 'codedeploy-wait-gate',
  event: {
    source: 'aws.codedeploy',
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    detail: { deploymentId, state },
  },
});

describe('CodeDeploy waits on a durable execution (LocalDurableTestRunner, skipped time)', () => {
  it('bakes 30 minutes in a 60-minute ready wait and continues it once, before the wait ends', async () => {
    const t0 = Date.UTC(2026, 10, 30, 13);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const cd = waitCodeDeploy(clock, { createdAt: t0 - 10 * minute, wait: 'READY_WAIT' });
      const plan = bakePlan('ReadyWait', g.url, 30, '1m');
      const { result } = await runDurable(waitTrigger(cd.port, clock), clock, plan, waitStart('READY'));
      expect(result).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'ContinueDeployment', rounds: 30 });
      expect(cd.decisions).toEqual([{ call: 'ContinueDeployment', wait: 'READY_WAIT', at: expect.any(Number) }]);
      expect(cd.decisions[0]?.at).toBeLessThan(t0 + 60 * minute);
    } finally {
      await g.close();
    }
  }, 60_000);

  it("stops with rollback, measuring nothing, when the bake cannot end within the deployment's ready wait", async () => {
    const t0 = Date.UTC(2026, 10, 30, 14);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const cd = waitCodeDeploy(clock, { createdAt: t0, wait: 'READY_WAIT', readyWaitMinutes: 20 });
      const plan = bakePlan('ReadyWait', g.url, 30, '1m');
      const { result } = await runDurable(waitTrigger(cd.port, clock), clock, plan, waitStart('READY'));
      expect(result).toMatchObject({ result: 'decided', decision: 'StopDeployment' });
      expect(result.reasons.join()).toMatch(
        /ReadyWait schedule takes up to .* ready wait \(20 min\) leaves about .*deploymentReadyOption\.waitTimeInMinutes/,
      );
      expect(g.hits).toHaveLength(0);
      expect(cd.decisions.map((d) => d.call)).toEqual(['StopDeployment']);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('continues a rollback deployment at once, measuring nothing', async () => {
    const t0 = Date.UTC(2026, 10, 30, 15);
    const clock = skippingClock(t0);
    const cd = waitCodeDeploy(clock, { createdAt: t0, wait: 'READY_WAIT', creator: 'codeDeployRollback' });
    const plan = bakePlan('ReadyWait', 'http://127.0.0.1:9/none', 30, '1m');
    const { result } = await runDurable(waitTrigger(cd.port, clock), clock, plan, waitStart('READY'));
    expect(result).toMatchObject({
      result: 'decided',
      analysis: 'pass',
      reasons: ['rollback deployment: not blocked'],
    });
    expect(cd.decisions.map((d) => d.call)).toEqual(['ContinueDeployment']);
  }, 60_000);

  it('decides nothing on a READY start payload for a deployment CodeDeploy says is not Ready', async () => {
    const t0 = Date.UTC(2026, 10, 30, 16);
    const clock = skippingClock(t0);
    // The deployment is in progress (no ready wait): a forged or stale READY names it in vain.
    const cd = waitCodeDeploy(clock, { createdAt: t0, wait: 'TERMINATION_WAIT' });
    const plan = bakePlan('ReadyWait', 'http://127.0.0.1:9/none', 1, '1m');
    const { result, ops } = await runDurable(waitTrigger(cd.port, clock), clock, plan, waitStart('READY'));
    expect(result).toMatchObject({ result: 'closed' });
    expect(result.reasons.join()).toMatch(/not in its READY_WAIT/);
    expect(cd.decisions).toEqual([]);
    expect(ops).toEqual(['STEP:open']);
  }, 60_000);

  it('watches durably from START, a look every poll interval, then bakes the termination wait and ends it early', async () => {
    const t0 = Date.UTC(2026, 10, 30, 17);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const cd = waitCodeDeploy(clock, {
        createdAt: t0,
        wait: 'TERMINATION_WAIT',
        terminationBeginsAt: t0 + 45 * minute,
      });
      const plan = bakePlan('TerminationWait', g.url, 10, '1m');
      const { result, ops } = await runDurable(
        waitTrigger(cd.port, clock, { pollInterval: '5m' }),
        clock,
        plan,
        waitStart('START'),
      );
      expect(result).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'ContinueDeployment' });
      // Looks at minutes 0, 5, ..., 45: ten checkpointed looks, nine durable waits between them.
      expect(ops.filter((o) => /^STEP:open/.test(o))).toHaveLength(10);
      expect(ops.filter((o) => o.startsWith('WAIT:watch-'))).toHaveLength(9);
      expect(g.hits).toHaveLength(10);
      expect(g.hits[0]).toBeGreaterThanOrEqual(t0 + 45 * minute);
      expect(cd.decisions).toEqual([{ call: 'ContinueDeployment', wait: 'TERMINATION_WAIT', at: expect.any(Number) }]);
      expect(cd.decisions[0]?.at).toBeLessThan(t0 + 105 * minute);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('gives up the watch at GREENLIGHT_WAIT_WATCH_LIMIT after the deployment was created, deciding nothing', async () => {
    const t0 = Date.UTC(2026, 10, 30, 18);
    const clock = skippingClock(t0);
    const cd = waitCodeDeploy(clock, { createdAt: t0, wait: 'TERMINATION_WAIT' });
    const plan = bakePlan('TerminationWait', 'http://127.0.0.1:9/none', 1, '1m');
    const { result, ops } = await runDurable(
      waitTrigger(cd.port, clock, { pollInterval: '10m', watchLimit: '1h' }),
      clock,
      plan,
      waitStart('START'),
    );
    expect(result).toMatchObject({ result: 'closed' });
    expect(result.reasons.join()).toMatch(/no termination wait seen within 1h .*GREENLIGHT_WAIT_WATCH_LIMIT/);
    // Looks at minutes 0, 10, ..., 60 find nothing; the one at 70 is past the limit.
    expect(ops.filter((o) => /^STEP:open/.test(o))).toHaveLength(8);
    expect(cd.decisions).toEqual([]);
  }, 60_000);

  it('stretches the look interval so that the longest watch fits the durable history of one execution', () => {
    const week = 7 * 24 * 60 * minute;
    expect(watchIntervalMs({ pollIntervalMs: 30_000, watchLimitMs: 72 * 60 * minute })).toBe(30_000);
    const stretched = watchIntervalMs({ pollIntervalMs: 30_000, watchLimitMs: week });
    expect(stretched).toBeGreaterThan(30_000);
    // Each look is a step and a wait: 2 operations of the 25,000 Lambda keeps, with room left for the bake.
    expect(Math.ceil(week / stretched) * 2).toBeLessThanOrEqual(maxWatchLooks * 2);
    expect(maxWatchLooks * 2).toBeLessThan(25_000);
  });
});

// --- The entry functions: one execution per hook, whatever the deliveries --------------------------------

/** Lambda's execution-name idempotency: same name and payload, the existing execution; another payload, 409. */
function lambdaDurable() {
  const executions = new Map<string, string>();
  const starts: { name: string; payload: unknown; outcome: 'started' | 'existing' | 'conflict' }[] = [];
  const port: DurableStartPort = {
    start: async ({ name, payload }) => {
      const text = JSON.stringify(payload);
      const existing = executions.get(name);
      if (existing === undefined) {
        executions.set(name, text);
        starts.push({ name, payload, outcome: 'started' });
        return 'started';
      }
      starts.push({ name, payload, outcome: existing === text ? 'existing' : 'conflict' });
      return existing === text ? 'started' : 'already-started';
    },
  };
  return { port, starts, executions };
}

function entryDeps(plan: Plan, port: DurableStartPort) {
  return {
    loadPlan: async () => plan,
    checks: { clock: realClock },
    clock: realClock,
    log: silent,
    reserve: '200ms',
    durable: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:gl-durable:live', port },
  };
}

describe('the entry functions start one durable execution per hook, whatever the deliveries', () => {
  it('PAUSE: a long bake starts one execution named after the hook; a redelivered event starts nothing new', async () => {
    const ecs = pauseEcs(realClock, { expiresAt: Date.now() + 3 * 60 * minute });
    const lambda = lambdaDurable();
    const gate = runGate(
      pauseTrigger(ecs.port, realClock),
      entryDeps(bakePlan('POST_TEST_TRAFFIC_SHIFT', 'http://127.0.0.1:9/health', 25, '5m'), lambda.port),
    );
    const first = await gate(pauseEvent, lambdaContext(10_000));
    const again = await gate(
      { ...pauseEvent, id: 'another-delivery', time: new Date().toISOString() },
      lambdaContext(10_000),
    );
    expect(first).toMatchObject({ outcome: 'analysis-started', hookId });
    expect(again.outcome).toMatch(/^analysis-/);
    expect(ecs.continued).toEqual([]);
    const name = durableExecutionName('ecs-pause-gate', `${deploymentArn}|${hookId}`);
    expect(lambda.starts.map((s) => [s.name, s.outcome])).toEqual([
      [name, 'started'],
      [name, 'existing'],
    ]);
    // Ids only, and the one the durable execution reads (and confirms with ECS).
    expect(lambda.starts[0]?.payload).toEqual(pauseStart);
  });

  it('READY and START: one execution per deployment and wait, the same payload for every delivery', async () => {
    const t0 = Date.now();
    const ready = waitCodeDeploy(realClock, { createdAt: t0, wait: 'READY_WAIT' });
    const lambda = lambdaDurable();
    const readyGate = runGate(
      waitTrigger(ready.port, realClock),
      entryDeps(bakePlan('*', 'http://127.0.0.1:9/health', 30, '1m'), lambda.port),
    );
    const event = (state: string, time: string) => ({
      'detail-type': 'CodeDeploy Deployment State-change Notification',
      source: 'aws.codedeploy',
      time,
      detail: { deploymentId, state, instanceGroupId: 'ig-1' },
    });
    expect(await readyGate(event('READY', '2026-11-30T10:00:00Z'), lambdaContext(10_000))).toMatchObject({
      result: 'analysis-started',
    });
    await readyGate(event('READY', '2026-11-30T10:00:09Z'), lambdaContext(10_000));
    const terminating = waitCodeDeploy(realClock, {
      createdAt: t0,
      wait: 'TERMINATION_WAIT',
      terminationBeginsAt: t0 + 60 * minute,
    });
    const startGate = runGate(
      waitTrigger(terminating.port, realClock),
      entryDeps(bakePlan('*', 'http://127.0.0.1:9/health', 30, '1m'), lambda.port),
    );
    // The termination wait has not begun: the entry hands the watch to the durable execution.
    expect(await startGate(event('START', '2026-11-30T09:00:00Z'), lambdaContext(10_000))).toMatchObject({
      wait: 'TERMINATION_WAIT',
      result: 'analysis-started',
    });
    expect(lambda.starts.map((s) => [s.name, s.outcome])).toEqual([
      [durableExecutionName('codedeploy-wait-gate', `${deploymentId}|READY_WAIT`), 'started'],
      [durableExecutionName('codedeploy-wait-gate', `${deploymentId}|READY_WAIT`), 'existing'],
      [durableExecutionName('codedeploy-wait-gate', `${deploymentId}|TERMINATION_WAIT`), 'started'],
    ]);
    expect(lambda.starts.map((s) => s.payload)).toEqual([waitStart('READY'), waitStart('READY'), waitStart('START')]);
    expect([...ready.decisions, ...terminating.decisions]).toEqual([]);
  });
});
