import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../lib/core/analyze.ts';
import {
  count,
  emptyCounters,
  longestScheduleMs,
  maxAttempts,
  measured,
  requiredPasses,
} from '../../lib/core/policy.ts';
import type { CheckPolicy, CheckResult, CheckRun, Counters, Outcome, Verdict } from '../../lib/core/types.ts';
import { virtualClock } from './virtual-clock.ts';

/**
 * The evidence rule as properties, over random policies and random outcome sequences, driving the real
 * `analyze` on a virtual clock (hours of schedule in milliseconds). A fixed seed keeps CI deterministic;
 * change it locally to explore.
 *
 * - a check never passes with fewer passing measurements than its plan requires
 *   (`requiredPasses`: consecutiveSuccesses when set, else count less the tolerated failures and
 *   inconclusives, never fewer than 1);
 * - errors never count toward count: removing them changes nothing but the error tally, and a check
 *   takes at most count × (consecutiveErrorLimit + 1) measurements within `longestScheduleMs`;
 * - a verdict never passes when a deciding check has no passing measurement, nor with no deciding check.
 */

const seed = 20_261_129;
const runs = { seed, numRuns: 300 };

const outcome = fc.constantFrom<Outcome>('pass', 'fail', 'inconclusive', 'error');
const outcomes = fc.array(outcome, { minLength: 1, maxLength: 12 });

function policyOf(minCount: number) {
  return fc
    .record({
      count: fc.integer({ min: minCount, max: 6 }),
      failureLimit: fc.integer({ min: 0, max: 3 }),
      inconclusiveLimit: fc.integer({ min: 0, max: 3 }),
      consecutiveErrorLimit: fc.integer({ min: 0, max: 3 }),
      streak: fc.integer({ min: 0, max: 6 }),
      initialDelayMs: fc.integer({ min: 0, max: 600_000 }),
      intervalMs: fc.integer({ min: 1, max: 600_000 }),
      timeoutMs: fc.integer({ min: 1, max: 60_000 }),
    })
    .map(
      ({ streak, ...p }): CheckPolicy => ({
        ...p,
        consecutiveSuccesses: Math.min(streak, p.count),
        dryRun: false,
      }),
    );
}
const policy = policyOf(1);

/** A measure answering `sequence` in turn, over and over; `calls` counts what was asked of it. */
function scripted(sequence: readonly Outcome[]) {
  const state = { calls: 0 };
  const measure = async () => ({
    outcome: sequence[state.calls++ % sequence.length] as Outcome,
    message: `measurement ${state.calls}`,
  });
  return { measure, state };
}

async function analyzeOnClock(
  checks: CheckRun[],
  noChecksPass = false,
): Promise<{ verdict: Verdict; elapsed: number }> {
  const vc = virtualClock();
  const analysis = await vc.run(
    analyze({ checks, clock: vc.clock, signal: new AbortController().signal, noChecksPass }),
  );
  if (analysis.kind !== 'verdict') throw new Error('an analysis without suspendAt always ends in a verdict');
  return { verdict: analysis.verdict, elapsed: vc.elapsed() };
}

async function runOne(p: CheckPolicy, sequence: readonly Outcome[]) {
  const { measure, state } = scripted(sequence);
  const { verdict, elapsed } = await analyzeOnClock([{ name: 'c', kind: 'fake', policy: p, measure }]);
  return { verdict, result: verdict.checks[0] as CheckResult, calls: state.calls, elapsed };
}

/** The counters the first `n` outcomes of the cycled `sequence` give. */
function tally(sequence: readonly Outcome[], n: number): Counters {
  let c = emptyCounters;
  for (let i = 0; i < n; i++) c = count(c, sequence[i % sequence.length] as Outcome);
  return c;
}

describe('the evidence rule, as properties (fast-check, fixed seed)', () => {
  it('a check never passes with fewer passing measurements than its plan requires', async () => {
    await fc.assert(
      fc.asyncProperty(policy, outcomes, async (p, sequence) => {
        const { result, calls } = await runOne(p, sequence);

        expect(result.counters).toEqual(tally(sequence, calls));
        if (result.status === 'pass') {
          expect(result.counters.passes).toBeGreaterThanOrEqual(requiredPasses(p));
          expect(result.counters.passes).toBeGreaterThanOrEqual(1);
          if (p.consecutiveSuccesses > 0) {
            expect(result.counters.consecutivePasses).toBeGreaterThanOrEqual(p.consecutiveSuccesses);
          } else {
            expect(measured(result.counters)).toBe(p.count);
          }
        }
      }),
      runs,
    );
  }, 120_000);

  it('errors never count toward count, and the measurements stay bounded in number and time', async () => {
    await fc.assert(
      fc.asyncProperty(policy, outcomes, async (p, sequence) => {
        const { result, calls, elapsed } = await runOne(p, sequence);

        expect(result.status).not.toBe('running');
        expect(measured(result.counters)).toBeLessThanOrEqual(p.count);
        expect(calls).toBeLessThanOrEqual(maxAttempts(p));
        expect(elapsed).toBeLessThanOrEqual(longestScheduleMs(p));
      }),
      runs,
    );
  }, 120_000);

  it('removing the errors a check tolerated changes nothing but the error tally', async () => {
    // An error breaks a run of consecutive passes (nobody saw green in between), so this holds for count
    // with failureLimit and inconclusiveLimit; consecutiveSuccesses is covered by the property above.
    const countPolicy = policy.map((p) => ({ ...p, consecutiveSuccesses: 0 }));
    await fc.assert(
      fc.asyncProperty(countPolicy, outcomes, async (p, sequence) => {
        const withErrors = await runOne(p, sequence);
        const measurements = sequence.filter((o) => o !== 'error');
        fc.pre(withErrors.result.status !== 'error' && measurements.length > 0);

        const without = await runOne(p, measurements);

        expect(without.result.status).toBe(withErrors.result.status);
        const { passes, failures, inconclusives } = withErrors.result.counters;
        expect(without.result.counters).toMatchObject({ passes, failures, inconclusives, errors: 0 });
      }),
      runs,
    );
  }, 120_000);

  it('a verdict never passes when a deciding check has no passing measurement, nor with none deciding', async () => {
    // count from 0: plans refuse it, and the core must refuse it on its own
    const check = fc.record({ policy: policyOf(0), dryRun: fc.boolean(), sequence: outcomes });
    await fc.assert(
      fc.asyncProperty(fc.array(check, { minLength: 0, maxLength: 3 }), fc.boolean(), async (specs, noChecksPass) => {
        const checks: CheckRun[] = specs.map((s, i) => ({
          name: `c${i}`,
          kind: 'fake',
          policy: { ...s.policy, dryRun: s.dryRun },
          measure: scripted(s.sequence).measure,
        }));

        const { verdict } = await analyzeOnClock(checks, noChecksPass);

        const deciding = verdict.checks.filter((c) => !c.dryRun);
        if (verdict.status === 'pass') {
          expect(deciding.length > 0 || (checks.length === 0 && noChecksPass)).toBe(true);
          for (const c of deciding) {
            const p = checks.find((r) => r.name === c.name)?.policy as CheckPolicy;
            expect(c.status).toBe('pass');
            expect(c.counters.passes).toBeGreaterThanOrEqual(Math.max(1, requiredPasses(p)));
          }
        }
        if (deciding.some((c) => c.counters.passes === 0)) expect(verdict.status).not.toBe('pass');
        if (checks.length > 0 && deciding.length === 0) expect(verdict.status).toBe('inconclusive');
      }),
      { seed, numRuns: 200 },
    );
  }, 120_000);
});
