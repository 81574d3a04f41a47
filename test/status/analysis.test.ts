import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { Event } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusView, textOutput } from '../../cli/status-view.ts';
import type { CodeDeployPort, HookStatus } from '../../lib/aws/codedeploy.ts';
import { type DurableHistoryEvent, historyEvent } from '../../lib/aws/durable-read.ts';
import type { Clock } from '../../lib/core/types.ts';
import { runDurableGate } from '../../lib/gate/durable.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { analysisFromHistory, measurementIndexes } from '../../lib/status/analysis.ts';
import type { StatusSnapshot } from '../../lib/status/snapshot.ts';
import { codeDeployHookTrigger } from '../../lib/triggers/codedeploy/hook.ts';

/**
 * `greenlight status` reads a hook's analysis from its durable execution's history. These histories are
 * recorded, not written by hand: the real runDurableGate runs on the SDK's LocalDurableTestRunner (time
 * skipped) against a local green, and its `getHistoryEvents()` (the API's own Event shape, as
 * GetDurableExecutionHistory returns it) is read back through the adapter's event mapping.
 */

const minute = 60_000;
const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, appendKeys() {} };

function skippingClock(start: number): Clock {
  let now = start;
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (ms <= 0 || signal.aborted) return resolve();
        const timer = setTimeout(() => {
          now += ms;
          resolve();
        }, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    advanceTo: (t) => {
      now = Math.max(now, t);
    },
  };
}

async function green(clock: Clock, degradesAt = Number.POSITIVE_INFINITY) {
  const server: Server = createServer((_req, res) => {
    const bad = clock.now() >= degradesAt;
    res.statusCode = bad ? 500 : 200;
    res.end(bad ? 'degraded' : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function codeDeploy(hookStart: number): CodeDeployPort {
  const reported: HookStatus[] = [];
  return {
    getDeployment: async () => ({
      deploymentId: 'd-STATUS001',
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
      reported.push(status);
      return 'reported';
    },
    continueDeployment: () => Promise.reject(new Error('not a hook call')),
    stopDeploymentWithRollback: () => Promise.reject(new Error('not a hook call')),
  };
}

/** Runs a 10-minute bake (a measurement a minute) and returns its recorded history. */
async function recordedBake(degradeAfterMinutes?: number): Promise<{ events: DurableHistoryEvent[]; t0: number }> {
  const t0 = Date.UTC(2026, 10, 30, 9);
  const clock = skippingClock(t0);
  const g = await green(clock, degradeAfterMinutes === undefined ? undefined : t0 + degradeAfterMinutes * minute);
  try {
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      checks: {
        'green-health': { type: 'http', url: g.url, expect: { status: 200 }, count: 10, interval: '1m', timeout: '2s' },
      },
      hooks: { '*': ['green-health'] },
    });
    const trigger = codeDeployHookTrigger({
      codedeploy: codeDeploy(t0),
      listeners: { listenerUrl: () => Promise.reject(new Error('no listener needed')) },
      taskSets: { taskSetOrigins: () => Promise.reject(new Error('no task sets needed')) },
      clock,
      log: silent,
      settings: {},
    });
    const analyse = runDurableGate(trigger, {
      loadPlan: async () => plan,
      checks: { clock },
      clock,
      log: silent,
      reserve: '5s',
    });
    const runner = new LocalDurableTestRunner({
      handlerFunction: withDurableExecution((payload: unknown, ctx) => analyse(payload, ctx)),
    });
    const execution = await runner.run({
      payload: {
        v: 1,
        trigger: 'codedeploy-hook',
        event: { DeploymentId: 'd-STATUS001', LifecycleEventHookExecutionId: 'exec-7' },
      },
    });
    return { events: (execution.getHistoryEvents() as Event[]).map(historyEvent), t0 };
  } finally {
    await g.close();
  }
}

const execution = (status: string) => ({
  name: 'gl-codedeploy-hook-abc',
  arn: 'arn:aws:lambda:::x',
  status,
  startedAt: 0,
});

beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

describe('a hook analysis read from its durable execution history', () => {
  let healthy: Awaited<ReturnType<typeof recordedBake>>;
  beforeAll(async () => {
    healthy = await recordedBake();
  }, 60_000);

  it('names the hook, the plan key, the ids it was started with, and the verdict CodeDeploy was told', () => {
    const a = analysisFromHistory(execution('SUCCEEDED'), healthy.events);

    expect(a).toMatchObject({
      trigger: 'codedeploy-hook',
      deploymentId: 'd-STATUS001',
      hookExecutionId: 'exec-7',
      hook: 'AfterAllowTraffic',
      group: 'app/group',
      planKey: '*',
      phase: 'decided',
      rounds: 10,
      verdict: { status: 'pass', decision: 'Succeeded' },
    });
    expect(a.checks).toEqual([
      expect.objectContaining({ name: 'green-health', kind: 'http', status: 'pass', count: 10, taken: 10, passes: 10 }),
    ]);
    // The hour CodeDeploy gives the hook, less a second: when the verdict is due.
    expect(a.deadline).toBe(healthy.t0 + 60 * minute - 1_000);
  });

  it('mid-bake (history cut after the 4th round): waiting, 4 of 10 taken, 6 left, the next measurement due a minute on', () => {
    const cut = healthy.events.findIndex((e) => e.type === 'WaitStarted' && e.name === 'wait-3');
    const a = analysisFromHistory(execution('RUNNING'), healthy.events.slice(0, cut + 1));

    expect(a.phase).toBe('waiting');
    expect(a.rounds).toBe(4);
    expect(a.verdict).toBeUndefined();
    expect(a.checks[0]).toMatchObject({ status: 'running', taken: 4, passes: 4, left: 6 });
    expect(a.checks[0]?.recent.map((m) => m.index)).toEqual([1, 2, 3, 4]);
    expect(a.checks[0]?.recent.at(-1)).toMatchObject({ outcome: 'pass', message: expect.stringMatching(/200/) });
    expect(a.nextAt).toBeGreaterThan(healthy.t0 + 3 * minute);
  });

  it('before the hook is opened: opening, no checks, no verdict', () => {
    const a = analysisFromHistory(execution('RUNNING'), healthy.events.slice(0, 2));
    expect(a).toMatchObject({ phase: 'opening', rounds: 0, checks: [], deploymentId: 'd-STATUS001' });
  });

  it('a degraded green: the failed verdict, its reason, and the counters at the failing measurement', async () => {
    const { events } = await recordedBake(3);
    const a = analysisFromHistory(execution('SUCCEEDED'), events);

    expect(a).toMatchObject({ phase: 'decided', rounds: 4, verdict: { status: 'fail', decision: 'Failed' } });
    expect(a.verdict?.reasons.join(' ')).toMatch(/green-health/);
    expect(a.checks[0]).toMatchObject({ status: 'fail', taken: 4, passes: 3, failures: 1 });
    expect(a.checks[0]?.left).toBeUndefined();
    expect(a.checks[0]?.recent.at(-1)).toMatchObject({ outcome: 'fail', index: 4 });
  }, 60_000);

  it('an execution that failed or was stopped is failed, whatever its last step said', () => {
    const stopped = analysisFromHistory(execution('STOPPED'), healthy.events.slice(0, 10));
    expect(stopped).toMatchObject({ phase: 'failed', problem: 'execution stopped' });
  });

  it('never reads a check spec: URLs and other plan fields stay out of the view', () => {
    const a = analysisFromHistory(execution('SUCCEEDED'), healthy.events);
    const shown = JSON.stringify({ ...a, checks: a.checks.map(({ recent: _r, ...c }) => c) });
    expect(shown).not.toMatch(/127\.0\.0\.1/);
  });

  it('the page and the live view show the same measurements once each, numbered against the schedule', () => {
    const cut = healthy.events.findIndex((e) => e.type === 'WaitStarted' && e.name === 'wait-3');
    const snapshot = (events: DurableHistoryEvent[], status: string): StatusSnapshot => ({
      v: 1,
      at: healthy.t0 + 4 * minute,
      target: { kind: 'deployment', deploymentId: 'd-STATUS001' },
      deployments: [],
      judging: [],
      analyses: [analysisFromHistory({ ...execution(status), startedAt: healthy.t0 }, events)],
      done: status !== 'RUNNING',
      outcome: status !== 'RUNNING' ? 'pass' : 'pending',
      notes: [],
    });
    const lines: string[] = [];
    const view = statusView(textOutput((line) => lines.push(line)));
    const live = view.watch();
    // Read after every round (twice after the fourth: nothing new is shown twice), then at the end.
    for (let round = 0; round < 9; round++) {
      const end = healthy.events.findIndex((e) => e.type === 'WaitStarted' && e.name === `wait-${round}`);
      live.update(snapshot(healthy.events.slice(0, end + 1), 'RUNNING'));
      if (round === 3) live.update(snapshot(healthy.events.slice(0, end + 1), 'RUNNING'));
    }
    live.update(snapshot(healthy.events, 'SUCCEEDED'));
    const text = lines.join('\n');

    expect(text).toMatch(/▸ AfterAllowTraffic judged by plan key \*/);
    for (let i = 1; i <= 10; i++)
      expect(text.match(new RegExp(`green-health\\s+${i}/10\\s+pass`, 'g'))).toHaveLength(1);
    expect(text).toMatch(/verdict pass: caller told Succeeded/);

    const page = view.page(snapshot(healthy.events.slice(0, cut + 1), 'RUNNING')).join('\n');
    expect(page).toMatch(/green-health\s+running\s+4 of 10\s+6\s+0\s+0\s+pass: /);
    expect(page).toMatch(/waiting · 4 rounds · next measurement in \d+s · verdict due in 5\dm/);
  });

  it('a watch that reads less often than measurements are taken says how many it did not show', () => {
    const lines: string[] = [];
    const live = statusView(textOutput((line) => lines.push(line))).watch();
    const first = healthy.events.findIndex((e) => e.type === 'WaitStarted' && e.name === 'wait-0');
    const snap = (events: DurableHistoryEvent[], status: string): StatusSnapshot => ({
      v: 1,
      at: healthy.t0,
      target: { kind: 'deployment', deploymentId: 'd-STATUS001' },
      deployments: [],
      judging: [],
      analyses: [analysisFromHistory({ ...execution(status), startedAt: healthy.t0 }, events)],
      done: false,
      outcome: 'pending',
      notes: [],
    });
    live.update(snap(healthy.events.slice(0, first + 1), 'RUNNING'));
    live.update(snap(healthy.events, 'SUCCEEDED'));
    const text = lines.join('\n');

    // The engine keeps the 5 most recent: 2 to 5 were taken between the reads and never seen.
    expect(text).toMatch(/\(4 earlier measurements of green-health not shown\)/);
    expect(text).toMatch(/green-health\s+6\/10\s+pass/);
    expect(text).not.toMatch(/green-health\s+5\/10/);
  });
});

describe('measurement numbers with throttled retakes (issue 14)', () => {
  it('gives a retaken measurement the number of the one it was an attempt at, and no number of its own', () => {
    // Taken 4; the recent five: #2, a retake of #3, #3, #4, then a retake of #5 still pending.
    expect(measurementIndexes(4, [false, true, false, false, true])).toEqual([2, 3, 3, 4, 5]);
    expect(measurementIndexes(4, [false, false, false, false])).toEqual([1, 2, 3, 4]);
  });
});
