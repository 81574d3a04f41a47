import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeDeployPort, HookStatus } from '../../lib/aws/codedeploy.ts';
import type { DurableStartPort } from '../../lib/aws/durable-start.ts';
import type { Clock } from '../../lib/core/types.ts';
import { type DurableOutcome, durableExecutionName, runDurableGate } from '../../lib/gate/durable.ts';
import { runGate } from '../../lib/gate/run-gate.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';
import { green, skippingClock } from '../support/durable-time.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { clock as realClock, quietLog as silent } from '../support/trigger-fakes.ts';

/**
 * Analyses on Lambda durable functions, run by the SDK's own LocalDurableTestRunner with time skipping:
 * each round of measurements is a checkpointed step, durable waits separate them, and the execution
 * delivers the verdict. Time is a skipping clock: it moves by the analysis' own sleeps and jumps to the
 * end of each durable wait, so a 30-minute bake runs in about a second. Green is a real local HTTP server
 * whose health follows that clock.
 */

const minute = 60_000;

/** CodeDeploy with one deployment whose AfterAllowTraffic hook began at `hookStart`; records reports. */
function codeDeploy(hookStart: number, clock: Clock) {
  const reported: { status: HookStatus; at: number }[] = [];
  const port: CodeDeployPort = {
    getDeployment: async () => ({
      deploymentId: 'd-ABCDEFGH1',
      applicationName: 'app',
      deploymentGroupName: 'group',
      computePlatform: 'Lambda',
      testListenerArns: [],
      prodListenerArns: [],
    }),
    listDeploymentTargets: async () => ['fn:live'],
    getDeploymentTarget: async (_id, targetId) => ({
      targetId,
      type: 'LambdaTarget',
      lifecycleEvents: [{ name: 'AfterAllowTraffic', status: 'InProgress', startTime: hookStart }],
      taskSets: [],
    }),
    putLifecycleEventHookStatus: async ({ status }) => {
      reported.push({ status, at: clock.now() });
      return reported.length > 1 ? 'already-completed' : 'reported';
    },
    continueDeployment: () => Promise.reject(new Error('not a hook call')),
    stopDeploymentWithRollback: () => Promise.reject(new Error('not a hook call')),
  };
  return { port, reported };
}

/** A 30-minute watch of green after AllowTraffic: a measurement a minute, any failure fails it. */
function bakePlan(url: string, count = 30, interval = '1m') {
  return parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    checks: { 'green-health': { type: 'http', url, expect: { status: 200 }, count, interval, timeout: '2s' } },
    hooks: { AfterAllowTraffic: ['green-health'] },
  });
}

function trigger(cd: CodeDeployPort, clock: Clock) {
  return codeDeployHookTrigger({
    codedeploy: cd,
    listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
    taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
    clock,
    log: silent,
    settings: {},
  });
}

const event = { DeploymentId: 'd-ABCDEFGH1', LifecycleEventHookExecutionId: 'exec-1' };
const start = { v: 1, trigger: 'codedeploy-hook', event };

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

async function runDurable(o: { clock: Clock; cd: CodeDeployPort; plan: ReturnType<typeof bakePlan> }) {
  const analyse = runDurableGate(trigger(o.cd, o.clock), {
    loadPlan: async () => o.plan,
    checks: { clock: o.clock },
    clock: o.clock,
    log: silent,
    reserve: '5s',
  });
  const runner = new LocalDurableTestRunner({
    handlerFunction: withDurableExecution((payload: unknown, ctx) => analyse(payload, ctx)),
  });
  const execution = await runner.run({ payload: start });
  return { execution, result: execution.getResult() as DurableOutcome };
}

describe('CodeDeploy hook analyses on a durable execution (LocalDurableTestRunner, skipped time)', () => {
  it('fails a 30-minute AfterAllowTraffic bake at its first failed measurement, when green degrades at minute 22', async () => {
    const t0 = Date.UTC(2026, 10, 29, 12);
    const clock = skippingClock(t0);
    const g = await green(clock, t0 + 22 * minute);
    try {
      const cd = codeDeploy(t0, clock);
      const { execution, result } = await runDurable({ clock, cd: cd.port, plan: bakePlan(g.url) });
      expect(execution.getStatus()).toBe('SUCCEEDED');
      expect(result).toMatchObject({ result: 'decided', analysis: 'fail', decision: 'Failed' });
      // Measured at minutes 0..22: the 23rd measurement failed and nothing was measured after it.
      expect(g.hits).toHaveLength(23);
      expect(g.hits.at(-1)).toBeGreaterThanOrEqual(t0 + 22 * minute);
      expect(g.hits.slice(0, -1).every((at) => at < t0 + 22 * minute)).toBe(true);
      expect(cd.reported.map((r) => r.status)).toEqual(['Failed']);
      // Each measurement ran once across every replay, in its own checkpointed step, a durable wait between.
      const ops = execution.getOperations().map((op) => `${op.getType()}:${op.getName()}`);
      expect(ops.filter((o) => o.startsWith('STEP:measure-'))).toHaveLength(23);
      expect(ops.filter((o) => o.startsWith('WAIT:'))).toHaveLength(22);
      expect(ops.at(0)).toBe('STEP:open');
      expect(ops.slice(-2)).toEqual(['STEP:deliver', 'STEP:publish']);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('passes a healthy 30-minute bake with 30 measurements and reports Succeeded once, before the hook hour ends', async () => {
    const t0 = Date.UTC(2026, 10, 29, 13);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const hookStart = t0 - 10 * minute;
      const cd = codeDeploy(hookStart, clock);
      const { result, execution } = await runDurable({ clock, cd: cd.port, plan: bakePlan(g.url) });
      expect(result).toMatchObject({ result: 'decided', analysis: 'pass', decision: 'Succeeded', rounds: 30 });
      expect(g.hits).toHaveLength(30);
      expect(cd.reported.map((r) => r.status)).toEqual(['Succeeded']);
      expect(cd.reported[0]?.at).toBeLessThan(hookStart + 60 * minute);
      const waits = execution
        .getOperations()
        .filter((op) => op.getType() === 'WAIT')
        .map((op) => op.getWaitDetails()?.waitSeconds);
      expect(waits).toHaveLength(29);
      expect(waits.every((s) => s !== undefined && s >= 59 && s <= 60)).toBe(true);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('fails closed, delivered, when the hook hour cannot hold the schedule any more (hook began 45 minutes ago)', async () => {
    const t0 = Date.UTC(2026, 10, 29, 14);
    const clock = skippingClock(t0);
    const g = await green(clock);
    try {
      const cd = codeDeploy(t0 - 45 * minute, clock);
      const { result } = await runDurable({ clock, cd: cd.port, plan: bakePlan(g.url) });
      expect(result).toMatchObject({ result: 'decided', analysis: 'error', decision: 'Failed' });
      expect(result.reasons.join()).toMatch(/must have its verdict within 15 min/);
      expect(g.hits).toHaveLength(0);
      expect(cd.reported.map((r) => r.status)).toEqual(['Failed']);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('resumes from the last checkpoint after a crash between measurements, without repeating a measurement or a report', async () => {
    const t0 = Date.UTC(2026, 10, 29, 15);
    const base = skippingClock(t0);
    let armed = false;
    let crashes = 0;
    // The 6th round dies as it starts (after the 5th was checkpointed): the SDK retries the step in a new
    // invocation, which replays the finished steps from their checkpoints.
    const clock: Clock = {
      now: () => {
        if (armed) {
          armed = false;
          crashes++;
          throw new Error('container lost');
        }
        return base.now();
      },
      sleep: base.sleep,
      advanceTo: (t) => {
        if (crashes === 0 && t >= t0 + 5 * minute) armed = true;
        base.advanceTo?.(t);
      },
    };
    const g = await green(base);
    try {
      const cd = codeDeploy(t0, base);
      const { result, execution } = await runDurable({ clock, cd: cd.port, plan: bakePlan(g.url, 10) });
      expect(crashes).toBe(1);
      expect(result).toMatchObject({ result: 'decided', analysis: 'pass', rounds: 10 });
      expect(g.hits).toHaveLength(10);
      expect(cd.reported.map((r) => r.status)).toEqual(['Succeeded']);
      const retried = execution.getOperations().find((op) => op.getName() === 'measure-5');
      expect(retried?.getStepDetails()?.attempt).toBeGreaterThan(1);
    } finally {
      await g.close();
    }
  }, 60_000);

  it('passes a rollback deployment at once in the execution, as the entry does', async () => {
    const t0 = Date.UTC(2026, 10, 29, 16);
    const clock = skippingClock(t0);
    const cd = codeDeploy(t0, clock);
    const rollback: CodeDeployPort = {
      ...cd.port,
      getDeployment: async () => ({ ...(await cd.port.getDeployment('d-ABCDEFGH1')), creator: 'codeDeployRollback' }),
    };
    const { result } = await runDurable({ clock, cd: rollback, plan: bakePlan('http://127.0.0.1:9/none') });
    expect(result).toMatchObject({
      result: 'decided',
      analysis: 'pass',
      reasons: ['rollback deployment: not blocked'],
    });
    expect(cd.reported.map((r) => r.status)).toEqual(['Succeeded']);
  }, 60_000);
});

describe('the entry function: short schedules here, long ones in one durable execution per hook', () => {
  /**
   * Lambda's execution-name idempotency: the same name and payload return the execution already started
   * (202, no new one); the same name with another payload is refused (`already-started`).
   */
  function lambdaDurable() {
    const starts: { functionArn: string; name: string; payload: unknown }[] = [];
    const port: DurableStartPort = {
      start: async (request) => {
        const held = starts.find((s) => s.name === request.name);
        starts.push(request);
        return held && JSON.stringify(held.payload) !== JSON.stringify(request.payload) ? 'already-started' : 'started';
      },
    };
    return { port, starts };
  }

  function entry(cd: CodeDeployPort, plan: ReturnType<typeof bakePlan>, durable?: DurableStartPort) {
    return runGate(trigger(cd, realClock), {
      loadPlan: async () => plan,
      checks: { clock: realClock },
      clock: realClock,
      log: silent,
      reserve: '200ms',
      ...(durable
        ? { durable: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:gl:live', port: durable } }
        : {}),
    });
  }

  it('starts one durable execution named after the hook; a duplicate delivery finds it started and reports nothing', async () => {
    const cd = codeDeploy(Date.now(), realClock);
    const lambda = lambdaDurable();
    const gate = entry(cd.port, bakePlan('http://127.0.0.1:9/health'), lambda.port);
    const first = await gate(event, lambdaContext(10_000));
    const second = await gate({ ...event, extra: 'ignored' }, lambdaContext(10_000));
    expect(first).toMatchObject({ delivery: 'analysis-started' });
    expect(second).toMatchObject({ delivery: 'analysis-started' });
    expect(cd.reported).toEqual([]);
    const name = durableExecutionName('codedeploy-hook', 'd-ABCDEFGH1/exec-1');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(lambda.starts.map((s) => s.name)).toEqual([name, name]);
    // The same payload every time, ids only: Lambda returns the running execution instead of refusing it.
    expect(lambda.starts[1]?.payload).toEqual(lambda.starts[0]?.payload);
    expect(lambda.starts[0]?.payload).toEqual(start);
  });

  it("fails closed, reported, when the hook's execution name is held by a start with another payload", async () => {
    const cd = codeDeploy(Date.now(), realClock);
    const lambda = lambdaDurable();
    const name = durableExecutionName('codedeploy-hook', 'd-ABCDEFGH1/exec-1');
    // Someone who may invoke the durable function took the name first, with a payload of their own.
    lambda.starts.push({ functionArn: 'x', name, payload: { v: 1, trigger: 'ecs-pause-gate', event: {} } });
    const out = await entry(cd.port, bakePlan('http://127.0.0.1:9/health'), lambda.port)(event, lambdaContext(10_000));
    expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
    expect(out.reasons.join()).toMatch(/already exists with another start payload/);
    expect(cd.reported.map((r) => r.status)).toEqual(['Failed']);
  });

  it('runs a schedule that fits its invocation itself, with no durable execution', async () => {
    const g = await green(realClock);
    try {
      const cd = codeDeploy(Date.now(), realClock);
      const lambda = lambdaDurable();
      const out = await entry(cd.port, bakePlan(g.url, 2, '10ms'), lambda.port)(event, lambdaContext(10_000));
      expect(out).toMatchObject({ status: 'Succeeded', delivery: 'reported' });
      expect(lambda.starts).toEqual([]);
      expect(g.hits).toHaveLength(2);
    } finally {
      await g.close();
    }
  });

  it('fails closed, naming GREENLIGHT_DURABLE_FUNCTION, when a long schedule has no durable function to run on', async () => {
    const cd = codeDeploy(Date.now(), realClock);
    const out = await entry(cd.port, bakePlan('http://127.0.0.1:9/health'))(event, lambdaContext(10_000));
    expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
    expect(out.reasons.join()).toMatch(/GREENLIGHT_DURABLE_FUNCTION/);
  });

  it('refuses a schedule longer than CodeDeploy gives a hook, in minutes, before starting anything', async () => {
    // `*` is not checked against one trigger when the plan is parsed: the entry refuses it before anything starts.
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      checks: { slow: { type: 'http', url: 'http://127.0.0.1:9/health', count: 70, interval: '1m', timeout: '2s' } },
      hooks: { '*': ['slow'] },
    });
    const cd = codeDeploy(Date.now(), realClock);
    const lambda = lambdaDurable();
    const out = await entry(cd.port, plan, lambda.port)(event, lambdaContext(10_000));
    expect(out.status).toBe('Failed');
    expect(out.reasons.join()).toMatch(/up to 69\.1 min .*longer than the 59 min codedeploy-hook allows/);
    expect(lambda.starts).toEqual([]);
  });
});

describe('what crosses a checkpoint', () => {
  it('is the plan as parsed, unchanged; anything JSON would change fails closed', async () => {
    const { checkpointable } = await import('../../lib/gate/durable.ts');
    const plan = bakePlan('http://127.0.0.1:9/health');
    const checks = [plan.checks['green-health']];
    expect(checkpointable({ key: 'AfterAllowTraffic', checks }, 'checks')).toEqual({
      key: 'AfterAllowTraffic',
      checks,
    });
    expect(() => checkpointable({ pattern: /x/ }, 'the checks of hooks.X')).toThrow(
      /the checks of hooks\.X cannot cross a durable checkpoint unchanged/,
    );
    expect(() => checkpointable({ limit: Number.POSITIVE_INFINITY }, 'checks')).toThrow(/cannot cross/);
    expect(() => checkpointable({ hosts: new Map([['a', 'b']]) }, 'checks')).toThrow(/cannot cross/);
  });
});
