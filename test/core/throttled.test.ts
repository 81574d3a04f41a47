import { describe, expect, it } from 'vitest';
import { type Analysis, analyze, restFits } from '../../lib/core/analyze.ts';
import { emptyCounters } from '../../lib/core/policy.ts';
import type { CheckPolicy, CheckRun, Measure, Measurement, Observation, Verdict } from '../../lib/core/types.ts';
import { defaultPolicy } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { virtualClock } from './virtual-clock.ts';

// Issue 14: a fleet of healthy deployments measuring at once is throttled by AWS. Throttling is AWS's answer
// to the account's load, not evidence about green: a throttled measurement is taken again while the deadline
// leaves time for the rest of the schedule, and only then counts as an error.

const policy: CheckPolicy = { ...defaultPolicy, count: 3 };

const throttled: Observation = {
  outcome: 'error',
  message: 'ListTasks/DescribeTasks: throttled by AWS (ECS ListTasks) for 4.8 s',
  throttled: true,
};
const pass: Observation = { outcome: 'pass', message: '2 of 2 running tasks healthy' };

/** Answers `script` in turn (the last repeats), noting when each measurement started. */
function scripted(now: () => number, ...script: Observation[]) {
  const at: number[] = [];
  const measure: Measure = async () => {
    at.push(now());
    return script[Math.min(at.length - 1, script.length - 1)] as Observation;
  };
  return { measure, at };
}

function verdictOf(a: Analysis): Verdict {
  if (a.kind !== 'verdict') throw new Error(`expected a verdict, got ${a.kind}`);
  return a.verdict;
}

async function analyzeWith(script: Observation[], extra: { deadlineMs?: number; policy?: Partial<CheckPolicy> } = {}) {
  const vc = virtualClock();
  const start = vc.clock.now();
  const s = scripted(vc.clock.now, ...script);
  const run: CheckRun = {
    name: 'tasks',
    kind: 'ecs-tasks',
    policy: { ...policy, ...extra.policy },
    measure: s.measure,
  };
  const seen: Measurement[] = [];
  const analysis = await vc.run(
    analyze({
      checks: [run],
      clock: vc.clock,
      signal: new AbortController().signal,
      ...(extra.deadlineMs === undefined ? {} : { deadlineAt: start + extra.deadlineMs }),
      onMeasurement: (_c, m) => seen.push(m),
    }),
  );
  return { verdict: verdictOf(analysis), starts: s.at.map((t) => t - start), seen, end: vc.clock.now() - start };
}

describe('throttled measurements (issue 14)', () => {
  it('are taken again, not counted, while the deadline leaves time: three throttled, then three passes, is a pass', async () => {
    const { verdict, starts, seen } = await analyzeWith([throttled, throttled, throttled, pass], {
      deadlineMs: 60_000,
    });
    expect(verdict.status).toBe('pass');
    expect(verdict.checks[0]?.counters).toMatchObject({ taken: 3, passes: 3, errors: 0 });
    // Each retake keeps the plan's interval: the schedule stretches, it does not hurry.
    expect(starts).toEqual([0, 5_000, 10_000, 15_000, 20_000, 25_000]);
    expect(seen[0]?.message).toBe(
      'ListTasks/DescribeTasks: throttled by AWS (ECS ListTasks) for 4.8 s; not counted: measured again in 5.0 s (the deadline leaves time)',
    );
    expect(seen[0]?.throttled).toBe(true);
  });

  it('are errors as before without a deadline to stretch to (a check measured on its own)', async () => {
    const { verdict, starts } = await analyzeWith([throttled, pass]);
    expect(verdict.status).toBe('error');
    expect(verdict.reasons[0]).toMatch(
      /1 consecutive errors \(consecutiveErrorLimit 0\).*throttled by AWS \(ECS ListTasks\)/,
    );
    expect(starts).toEqual([0]);
  });

  it('count as errors once the rest of the schedule would no longer fit, so the verdict still comes before the deadline', async () => {
    // 3 measurements need 5 + 5 + 5 s from the first: with a 22 s deadline, retakes may start until 7 s.
    const { verdict, starts, end } = await analyzeWith([throttled], { deadlineMs: 22_000 });
    expect(verdict.status).toBe('error');
    expect(starts).toEqual([0, 5_000]);
    expect(verdict.reasons[0]).toMatch(/consecutive errors.*throttled by AWS/);
    expect(end).toBeLessThanOrEqual(22_000);
  });

  it('never turn a pass or a fail into something else: only an error can be throttled', async () => {
    const failing: Observation = {
      outcome: 'fail',
      message: 'task stopped: EssentialContainerExited',
      throttled: true,
    } as never;
    const { verdict, starts } = await analyzeWith([failing], { deadlineMs: 60_000 });
    expect(verdict.status).toBe('fail');
    expect(starts).toEqual([0]);
  });

  it('break a run of passes, as an error does: nobody saw green in between', async () => {
    const { verdict } = await analyzeWith([pass, throttled, pass, pass], {
      deadlineMs: 120_000,
      policy: { count: 4, consecutiveSuccesses: 2 },
    });
    expect(verdict.status).toBe('pass');
    // pass, (throttled: run broken), pass, pass: the run of 2 ends at the 3rd counted measurement, not the 2nd.
    expect(verdict.checks[0]?.counters).toMatchObject({ taken: 3, passes: 3, consecutivePasses: 2 });
  });
});

describe('restFits', () => {
  it('is true while the measurements still needed, an interval apart, the last to its timeout, end by the deadline', () => {
    const twoTaken = { ...emptyCounters, taken: 2, passes: 2 };
    // One measurement left: it needs its timeout.
    expect(restFits(policy, twoTaken, 10_000, 15_000)).toBe(true);
    expect(restFits(policy, twoTaken, 10_001, 15_000)).toBe(false);
    // Three left: 5 + 5 + 5 s.
    expect(restFits(policy, emptyCounters, 0, 15_000)).toBe(true);
    expect(restFits(policy, emptyCounters, 0, 14_999)).toBe(false);
    // A timeout longer than the interval spaces them by the timeout.
    expect(restFits({ ...policy, timeoutMs: 8_000 }, emptyCounters, 0, 24_000)).toBe(true);
    expect(restFits({ ...policy, timeoutMs: 8_000 }, emptyCounters, 0, 23_999)).toBe(false);
  });
});

describe('a measurement cut by its timeout', () => {
  it("reports the check's own error when the check says it within a moment (throttled), not a bare timeout", async () => {
    let calls = 0;
    const measure: Measure = (signal) => {
      calls++;
      if (calls > 1) return Promise.resolve(pass);
      // Like a check whose read budget ends with its timeout, on an event loop that runs both timers together.
      return new Promise((resolve) =>
        signal.addEventListener('abort', () => setTimeout(() => resolve(throttled), 5), { once: true }),
      );
    };
    const run: CheckRun = {
      name: 'tasks',
      kind: 'ecs-tasks',
      policy: { ...policy, count: 1, intervalMs: 50, timeoutMs: 200 },
      measure,
    };
    const seen: Measurement[] = [];
    const analysis = await analyze({
      checks: [run],
      clock: systemClock,
      signal: AbortSignal.timeout(5_000),
      deadlineAt: Date.now() + 5_000,
      onMeasurement: (_c, m) => seen.push(m),
    });
    expect(verdictOf(analysis).status).toBe('pass');
    expect(seen[0]?.throttled).toBe(true);
    expect(seen[0]?.message).toMatch(/^ListTasks\/DescribeTasks: throttled by AWS/);
  });

  it('is still an error when the check answers pass after its timeout: a late pass is not evidence', async () => {
    const measure: Measure = (signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => setTimeout(() => resolve(pass), 5), { once: true }),
      );
    const run: CheckRun = { name: 'slow', kind: 'http', policy: { ...policy, count: 1, timeoutMs: 100 }, measure };
    const analysis = await analyze({ checks: [run], clock: systemClock, signal: AbortSignal.timeout(5_000) });
    expect(verdictOf(analysis).status).toBe('error');
    expect(verdictOf(analysis).reasons[0]).toMatch(/timed out after 100 ms/);
  });
});
