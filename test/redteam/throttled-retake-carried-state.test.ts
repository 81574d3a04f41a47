import { describe, expect, it } from 'vitest';
import { analyze } from '../../lib/core/analyze.ts';
import type { CheckRun, Measure, Observation } from '../../lib/core/types.ts';
import { decodeState, encodeState, planFingerprint } from '../../lib/gate/carried-state.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { virtualClock } from '../core/virtual-clock.ts';

// Red team (issue 14 throttling): a throttled measurement that is taken again is kept in the check's `recent`
// measurements but not counted in `taken`. An ECS lifecycle hook that then suspends carries that state in
// hookDetails, and reading it back refused it ("more measurements than taken"): the next invocation failed
// the deployment on a state error, the false rollback that retaking throttled measurements is there to avoid.

const plan = parsePlan({
  version: 1,
  hooks: { POST_TEST_TRAFFIC_SHIFT: ['tasks'] },
  checks: { tasks: { type: 'ecs-tasks', count: 3, interval: '1m', timeout: '5s' } },
});
const checks = Object.values(plan.checks);
const binding = { fingerprint: planFingerprint(checks, 'POST_TEST_TRAFFIC_SHIFT'), bind: 'arn:sd|POST_TEST' };
const key = new TextEncoder().encode('k'.repeat(64));

const throttled: Observation = {
  outcome: 'error',
  message: 'ListTasks/DescribeTasks: throttled by AWS (ECS ListTasks) for 4.8 s',
  throttled: true,
};
const pass: Observation = { outcome: 'pass', message: '2 of 2 running tasks healthy' };

async function suspendedAfter(script: Observation[]) {
  const vc = virtualClock();
  const start = vc.clock.now();
  let i = 0;
  const measure: Measure = async () => script[Math.min(i++, script.length - 1)] as Observation;
  const check = checks[0];
  if (!check) throw new Error('no check');
  const run: CheckRun = { name: check.name, kind: 'ecs-tasks', policy: check.policy, measure };
  const deadline = start + 30 * 60_000;
  // One invocation of 30 s at a time, as an ECS hook with callBackDelay: the retake falls in the next one.
  const analysis = await vc.run(
    analyze({
      checks: [run],
      clock: vc.clock,
      signal: new AbortController().signal,
      suspendAt: start + 30_000 + 60_000 * (script.length - 1),
      deadlineAt: deadline,
    }),
  );
  if (analysis.kind !== 'suspended') throw new Error(`expected a suspended analysis, got ${analysis.kind}`);
  return { state: { analysis: analysis.state, deadline, legs: 1 }, now: vc.clock.now() };
}

describe('a throttled retake carried to the next invocation of an ECS lifecycle hook', () => {
  it('is read back: the first measurement throttled and taken again', async () => {
    const { state, now } = await suspendedAfter([throttled]);
    expect(state.analysis.checks.tasks).toMatchObject({ taken: 0, status: 'running' });
    const encoded = JSON.parse(JSON.stringify(encodeState(state, binding, key)));
    const back = decodeState(encoded, { ...binding, checks }, now, key);
    expect(back.analysis.checks.tasks).toMatchObject({ taken: 0, status: 'running' });
  });

  it('is read back: a pass, then a throttled measurement taken again', async () => {
    const { state, now } = await suspendedAfter([pass, throttled]);
    expect(state.analysis.checks.tasks).toMatchObject({ taken: 1, passes: 1, status: 'running' });
    const encoded = JSON.parse(JSON.stringify(encodeState(state, binding, key)));
    const back = decodeState(encoded, { ...binding, checks }, now, key);
    expect(back.analysis.checks.tasks).toMatchObject({ taken: 1, passes: 1, status: 'running' });
  });
});
