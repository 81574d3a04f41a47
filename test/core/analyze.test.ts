import { describe, expect, it } from 'vitest';
import { type Analysis, type AnalyzeOptions, analyze } from '../../lib/core/analyze.ts';
import type { CheckPolicy, CheckRun, Measure, Observation, Outcome, Verdict } from '../../lib/core/types.ts';
import { systemClock } from '../../lib/runtime/clock.ts';

const basePolicy: CheckPolicy = {
  initialDelayMs: 0,
  count: 1,
  intervalMs: 10,
  timeoutMs: 1000,
  failureLimit: 0,
  consecutiveErrorLimit: 0,
  consecutiveSuccesses: 0,
  inconclusiveLimit: 0,
  dryRun: false,
};

function check(name: string, measure: Measure, policy: Partial<CheckPolicy> = {}): CheckRun {
  return { name, kind: 'fake', policy: { ...basePolicy, ...policy }, measure };
}

/** A measure that answers `outcomes` in turn (the last one repeats) and records every call. */
function scripted(...outcomes: Outcome[]) {
  const calls: { at: number; signal: AbortSignal }[] = [];
  const measure: Measure = async (signal) => {
    const outcome = outcomes[Math.min(calls.length, outcomes.length - 1)] ?? 'pass';
    calls.push({ at: Date.now(), signal });
    return { outcome, message: `measurement ${calls.length}: ${outcome}` };
  };
  return { measure, calls };
}

/** A measure that only settles when its signal aborts (or never, when `ignoreAbort`). */
function hanging(ignoreAbort = false) {
  const signals: AbortSignal[] = [];
  const measure: Measure = (signal) => {
    signals.push(signal);
    return new Promise<Observation>((resolve) => {
      if (ignoreAbort) return;
      signal.addEventListener('abort', () => resolve({ outcome: 'pass', message: 'answered after abort' }), {
        once: true,
      });
    });
  };
  return { measure, signals };
}

function run(checks: CheckRun[], extra: Partial<AnalyzeOptions> = {}): Promise<Analysis> {
  return analyze({ checks, clock: systemClock, signal: new AbortController().signal, ...extra });
}

function verdictOf(analysis: Analysis): Verdict {
  if (analysis.kind !== 'verdict') throw new Error(`expected a verdict, got ${analysis.kind}`);
  return analysis.verdict;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('analyze', () => {
  it('passes when every check passes all its measurements', async () => {
    // Arrange
    const a = scripted('pass');
    const b = scripted('pass');

    // Act
    const verdict = verdictOf(
      await run([check('a', a.measure, { count: 3 }), check('b', b.measure, { count: 2, intervalMs: 20 })]),
    );

    // Assert
    expect(verdict.status).toBe('pass');
    expect(verdict.reasons).toEqual(['all 2 deciding checks passed']);
    expect(a.calls).toHaveLength(3);
    expect(b.calls).toHaveLength(2);
    expect(verdict.checks.map((c) => [c.name, c.status, c.counters.taken])).toEqual([
      ['a', 'pass', 3],
      ['b', 'pass', 2],
    ]);
  });

  it('is inconclusive with no checks at all: nothing measured green', async () => {
    // Act
    const verdict = verdictOf(await run([]));

    // Assert
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.reasons).toEqual(['no deciding checks: nothing measured green']);
    expect(verdict.checks).toEqual([]);
  });

  it('passes with no checks only when the caller says the plan lists none (an explicit [])', async () => {
    // Act
    const verdict = verdictOf(await run([], { noChecksPass: true }));

    // Assert
    expect(verdict.status).toBe('pass');
    expect(verdict.reasons).toEqual(['no checks: the plan lists none here']);
  });

  it('issue 11: a check with count 0 ends in error without measuring, never a pass', async () => {
    // Arrange
    const a = scripted('pass');

    // Act
    const verdict = verdictOf(await run([check('a', a.measure, { count: 0 })]));

    // Assert
    expect(verdict.status).toBe('error');
    expect(verdict.reasons[0]).toMatch(/^a: error: count is 0: a check needs at least 1 measurement/);
    expect(a.calls).toHaveLength(0);
  });

  it('issue 11: errors are retried and do not use up count; the measurement after them decides', async () => {
    // Arrange: reset, 200, reset, 503 (as outcomes), count 3, one error in a row tolerated
    const a = scripted('error', 'pass', 'error', 'fail', 'pass');

    // Act
    const verdict = verdictOf(await run([check('a', a.measure, { count: 3, consecutiveErrorLimit: 1 })]));

    // Assert
    expect(verdict.status).toBe('fail');
    expect(a.calls).toHaveLength(4);
    expect(verdict.checks[0]?.counters).toMatchObject({ taken: 4, passes: 1, errors: 2, failures: 1 });
  });

  it('issue 11: passes only once count measurements that are not errors passed', async () => {
    // Arrange
    const a = scripted('error', 'pass', 'error', 'pass', 'pass');

    // Act
    const verdict = verdictOf(await run([check('a', a.measure, { count: 3, consecutiveErrorLimit: 1 })]));

    // Assert
    expect(verdict.status).toBe('pass');
    expect(a.calls).toHaveLength(5);
    expect(verdict.checks[0]?.counters).toMatchObject({ passes: 3, errors: 2 });
  });

  it('issue 11: reports an inconclusive check as inconclusive while another deciding check is unfinished', async () => {
    // Arrange: a is inconclusive at once; b would pass twice, 50 ms apart
    const a = scripted('inconclusive');
    const b = scripted('pass');

    // Act
    const verdict = verdictOf(
      await run([check('a', a.measure, { count: 1 }), check('b', b.measure, { count: 2, intervalMs: 50 })]),
    );

    // Assert
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.reasons).toEqual([expect.stringMatching(/^a: inconclusive: 1 inconclusive/)]);
    expect(verdict.checks.find((c) => c.name === 'b')?.reason).toMatch(/decided by a/);
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'resumes a check named %s from its own state only, never from Object.prototype',
    async (name) => {
      // Arrange: state from an earlier invocation that has no entry for this check
      const a = scripted('pass');

      // Act
      const verdict = verdictOf(await run([check(name, a.measure)], { state: { startedAt: Date.now(), checks: {} } }));

      // Assert
      expect(verdict.status).toBe('pass');
      expect(a.calls).toHaveLength(1);
    },
  );

  it('waits initialDelay before the first measurement and interval between measurements', async () => {
    // Arrange
    const a = scripted('pass');
    const started = Date.now();

    // Act
    await run([check('a', a.measure, { initialDelayMs: 40, count: 3, intervalMs: 30 })]);

    // Assert: timers may fire a millisecond early, never much earlier
    const at = a.calls.map((c) => c.at);
    expect(at).toHaveLength(3);
    expect((at[0] ?? 0) - started).toBeGreaterThanOrEqual(38);
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(28);
    expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(28);
  });

  it('runs checks in parallel, not one after the other', async () => {
    // Arrange: two checks of 3 measurements 50 ms apart take ~100 ms together, ~200 ms in series
    const a = scripted('pass');
    const b = scripted('pass');

    // Act
    const { ms } = await timed(() =>
      run([check('a', a.measure, { count: 3, intervalMs: 50 }), check('b', b.measure, { count: 3, intervalMs: 50 })]),
    );

    // Assert
    expect(ms).toBeLessThan(190);
    expect(Math.abs((a.calls[0]?.at ?? 0) - (b.calls[0]?.at ?? 1000))).toBeLessThan(30);
  });

  it('fails fast: one failing check decides the verdict and aborts the measurement of another', async () => {
    // Arrange: `slow` would measure 20 times 50 ms apart; its measurement hangs until aborted
    const failing = scripted('fail');
    const slow = hanging();

    // Act
    const { value, ms } = await timed(() =>
      run([
        check('slow', slow.measure, { count: 20, intervalMs: 50, timeoutMs: 5000 }),
        check('failing', failing.measure, { initialDelayMs: 20 }),
      ]),
    );

    // Assert
    const verdict = verdictOf(value);
    expect(verdict.status).toBe('fail');
    expect(ms).toBeLessThan(500);
    expect(slow.signals).toHaveLength(1);
    expect(slow.signals[0]?.aborted).toBe(true);
    expect(verdict.reasons).toContainEqual(
      'failing: fail: 1 failed (failureLimit 0) after 1 of 1 measurements; last: measurement 1: fail',
    );
    const slowResult = verdict.checks.find((c) => c.name === 'slow');
    expect(slowResult?.status).toBe('running');
    expect(slowResult?.reason).toContain('not finished: the verdict was decided by failing');
  });

  it('does not take the stopped measurement of another check as a result', async () => {
    // Arrange: the hanging measure answers "pass" once aborted; that answer must not be counted
    const failing = scripted('fail');
    const slow = hanging();

    // Act
    const verdict = verdictOf(
      await run([check('slow', slow.measure, { timeoutMs: 5000 }), check('failing', failing.measure)]),
    );

    // Assert
    expect(verdict.checks.find((c) => c.name === 'slow')?.counters.taken).toBe(0);
  });

  it('cuts a hanging measurement at timeoutMs and counts it as an error', async () => {
    // Arrange
    const stuck = hanging(true);

    // Act
    const { value, ms } = await timed(() => run([check('stuck', stuck.measure, { timeoutMs: 50 })]));

    // Assert
    const verdict = verdictOf(value);
    expect(verdict.status).toBe('error');
    expect(ms).toBeLessThan(500);
    expect(verdict.checks[0]?.recent[0]).toMatchObject({ outcome: 'error', message: 'timed out after 50 ms' });
    expect(stuck.signals[0]?.aborted).toBe(true);
    expect(stuck.signals[0]?.reason).toEqual(new Error('timed out after 50 ms'));
  });

  it('ends in error, quickly, when the deadline signal aborts with checks unfinished', async () => {
    // Arrange
    const deadline = new AbortController();
    const slow = hanging();
    const steady = scripted('pass');
    setTimeout(() => deadline.abort(new Error('deadline reached')), 50);

    // Act
    const { value, ms } = await timed(() =>
      run(
        [
          check('slow', slow.measure, { timeoutMs: 10_000 }),
          check('steady', steady.measure, { count: 100, intervalMs: 20 }),
        ],
        { signal: deadline.signal },
      ),
    );

    // Assert
    const verdict = verdictOf(value);
    expect(ms).toBeLessThan(500);
    expect(verdict.status).toBe('error');
    expect(verdict.checks.map((c) => c.status)).toEqual(['running', 'running']);
    expect(verdict.reasons).toHaveLength(2);
    expect(verdict.reasons[0]).toMatch(/^slow: error: deadline reached \(0 of 1 measurements\)/);
    expect(slow.signals[0]?.aborted).toBe(true);
  });

  it('ends in error at once when the deadline has already passed', async () => {
    // Arrange
    const deadline = new AbortController();
    deadline.abort();
    const a = scripted('pass');

    // Act
    const verdict = verdictOf(await run([check('a', a.measure)], { signal: deadline.signal }));

    // Assert
    expect(verdict.status).toBe('error');
    expect(a.calls).toHaveLength(0);
  });

  it('does not let a failing dry-run check fail the verdict', async () => {
    // Arrange
    const advisory = scripted('fail');
    const deciding = scripted('pass');

    // Act
    const verdict = verdictOf(
      await run([check('advisory', advisory.measure, { dryRun: true }), check('deciding', deciding.measure)]),
    );

    // Assert
    expect(verdict.status).toBe('pass');
    expect(verdict.checks.find((c) => c.name === 'advisory')).toMatchObject({ status: 'fail', dryRun: true });
  });

  it('measures dry-run checks even when no check decides, and does not pass: nothing decided', async () => {
    // Arrange
    const advisory = scripted('pass');

    // Act
    const verdict = verdictOf(
      await run([check('advisory', advisory.measure, { dryRun: true })], { noChecksPass: true }),
    );

    // Assert
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.reasons).toEqual([
      'no deciding checks: the 1 dry-run checks never decide, and nothing else measured green',
    ]);
    expect(advisory.calls).toHaveLength(1);
  });

  it('counts a measure that throws as an error, never a pass', async () => {
    // Arrange
    const measure: Measure = async () => {
      throw new Error('boom');
    };

    // Act
    const verdict = verdictOf(await run([check('thrower', measure)]));

    // Assert
    expect(verdict.status).toBe('error');
    expect(verdict.checks[0]?.recent[0]).toMatchObject({ outcome: 'error', message: 'check threw: boom' });
  });

  it('counts a measure that throws synchronously as an error', async () => {
    // Arrange
    const measure: Measure = () => {
      throw new TypeError('not a function');
    };

    // Act
    const verdict = verdictOf(await run([check('thrower', measure)]));

    // Assert
    expect(verdict.status).toBe('error');
  });

  it.each<[string, unknown]>([
    ['an unknown outcome', { outcome: 'bogus', message: 'looks fine' }],
    ['no outcome', { message: 'looks fine' }],
    ['undefined', undefined],
    ['null', null],
    ['a string', 'pass'],
  ])('counts a measure returning %s as an error, never a pass', async (_name, returned) => {
    // Arrange
    const measure = (async () => returned) as unknown as Measure;

    // Act
    const verdict = verdictOf(await run([check('garbage', measure, { count: 2, failureLimit: 5 })]));

    // Assert
    expect(verdict.status).toBe('error');
    expect(verdict.checks[0]?.counters.passes).toBe(0);
    expect(verdict.checks[0]?.recent[0]).toMatchObject({
      outcome: 'error',
      message: 'check returned no valid outcome',
    });
  });

  it('keeps the value a check observed, with timings', async () => {
    // Arrange
    const measure: Measure = async () => ({ outcome: 'pass', message: 'ok', value: 204 });
    const before = Date.now();

    // Act
    const verdict = verdictOf(await run([check('a', measure)]));

    // Assert
    const m = verdict.checks[0]?.recent[0];
    expect(m).toMatchObject({ outcome: 'pass', message: 'ok', value: 204 });
    expect(m?.startedAt).toBeGreaterThanOrEqual(before);
    expect(m?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps only the most recent measurements, newest last', async () => {
    // Arrange
    const a = scripted('pass');

    // Act
    const verdict = verdictOf(await run([check('a', a.measure, { count: 4, intervalMs: 1 })], { recentLimit: 2 }));

    // Assert
    expect(verdict.checks[0]?.recent.map((m) => m.message)).toEqual(['measurement 3: pass', 'measurement 4: pass']);
  });

  it('ignores an onMeasurement callback that throws', async () => {
    // Arrange
    const a = scripted('pass');
    let calls = 0;
    const onMeasurement = () => {
      calls++;
      throw new Error('logger broke');
    };

    // Act
    const verdict = verdictOf(await run([check('a', a.measure, { count: 2 })], { onMeasurement }));

    // Assert
    expect(verdict.status).toBe('pass');
    expect(calls).toBe(2);
    expect(a.calls).toHaveLength(2);
  });

  it('reports each measurement with the check state after it', async () => {
    // Arrange
    const a = scripted('pass', 'pass');
    const seen: [string, number, string][] = [];

    // Act
    await run([check('a', a.measure, { count: 2 })], {
      onMeasurement: (c, m, s) => seen.push([c.name, s.taken, `${m.outcome}/${s.status}`]),
    });

    // Assert
    expect(seen).toEqual([
      ['a', 1, 'pass/running'],
      ['a', 2, 'pass/pass'],
    ]);
  });

  describe('suspension', () => {
    it('suspends when the next measurement could not finish before suspendAt, with state to resume', async () => {
      // Arrange: measures at 0 ms, then is due at 200 ms, which with a 100 ms timeout ends after suspendAt
      const a = scripted('pass');
      const policy = { count: 3, intervalMs: 200, timeoutMs: 100 };

      // Act
      const analysis = await run([check('a', a.measure, policy)], { suspendAt: Date.now() + 150 });

      // Assert
      expect(analysis.kind).toBe('suspended');
      if (analysis.kind !== 'suspended') return;
      expect(a.calls).toHaveLength(1);
      const state = analysis.state.checks.a;
      expect(state).toMatchObject({ status: 'running', taken: 1, passes: 1 });
      expect(analysis.resumeAt).toBe(state?.nextAt);
      expect(analysis.progress[0]?.reason).toContain('suspended (1 of 3 measurements)');
      expect(JSON.parse(JSON.stringify(analysis.state))).toEqual(analysis.state);
    });

    it.each([
      [true, 0],
      [false, 2],
    ])(
      'with suspendCountsTimeout %s, starts measurements whose timeout ends after suspendAt: %d of them',
      async (suspendCountsTimeout, taken) => {
        // Arrange: due at 0, 200 and 400 ms; each may take up to 1000 ms; suspendAt is 300 ms away
        const a = scripted('pass');
        const checks = [check('a', a.measure, { count: 3, intervalMs: 200, timeoutMs: 1000 })];

        // Act
        const analysis = await run(checks, { suspendAt: Date.now() + 300, suspendCountsTimeout });

        // Assert
        expect(analysis.kind).toBe('suspended');
        expect(analysis.state.checks.a?.taken).toBe(taken);
        expect(a.calls).toHaveLength(taken);
      },
    );

    it('resumes from state without repeating measurements and reaches the verdict', async () => {
      // Arrange
      const a = scripted('pass');
      const checks = [check('a', a.measure, { count: 3, intervalMs: 100, timeoutMs: 60 })];
      const first = await run(checks, { suspendAt: Date.now() + 80 });
      if (first.kind !== 'suspended') throw new Error('expected the first invocation to suspend');
      const takenBefore = a.calls.length;

      // Act
      const second = await run(checks, { state: first.state });

      // Assert
      const verdict = verdictOf(second);
      expect(takenBefore).toBeGreaterThan(0);
      expect(takenBefore).toBeLessThan(3);
      expect(verdict.status).toBe('pass');
      expect(a.calls).toHaveLength(3);
      expect(verdict.checks[0]?.counters.taken).toBe(3);
      expect(verdict.startedAt).toBe(first.state.startedAt);
      expect((a.calls[takenBefore]?.at ?? 0) - (a.calls[takenBefore - 1]?.at ?? 0)).toBeGreaterThanOrEqual(98);
    });

    it('carries failure counters across invocations', async () => {
      // Arrange: one failure is tolerated; the second, in the next invocation, is not
      const a = scripted('fail');
      const checks = [check('a', a.measure, { count: 3, failureLimit: 1, intervalMs: 100, timeoutMs: 60 })];
      const first = await run(checks, { suspendAt: Date.now() + 80 });
      if (first.kind !== 'suspended') throw new Error('expected the first invocation to suspend');

      // Act
      const verdict = verdictOf(await run(checks, { state: first.state }));

      // Assert
      expect(verdict.status).toBe('fail');
      expect(verdict.checks[0]?.counters.failures).toBe(2);
      expect(a.calls).toHaveLength(2);
    });

    it('does not suspend once a deciding check has already failed', async () => {
      // Arrange
      const failing = scripted('fail');
      const later = scripted('pass');

      // Act
      const analysis = await run(
        [
          check('failing', failing.measure, { timeoutMs: 50 }),
          check('later', later.measure, { initialDelayMs: 1000, timeoutMs: 50 }),
        ],
        { suspendAt: Date.now() + 500 },
      );

      // Assert
      expect(verdictOf(analysis).status).toBe('fail');
      expect(later.calls).toHaveLength(0);
    });

    it('does not suspend for a dry-run check alone once the deciding checks passed', async () => {
      // Arrange
      const advisory = scripted('pass');
      const deciding = scripted('pass');

      // Act
      const analysis = await run(
        [
          check('advisory', advisory.measure, { dryRun: true, initialDelayMs: 1000, timeoutMs: 50 }),
          check('deciding', deciding.measure, { timeoutMs: 50 }),
        ],
        { suspendAt: Date.now() + 500 },
      );

      // Assert
      expect(verdictOf(analysis).status).toBe('pass');
    });
  });
});

describe('verdict reasons', () => {
  it('name the check that decided, not the checks stopped because of it', async () => {
    const failing = scripted('fail');
    const slow = hanging();

    const verdict = verdictOf(
      await run([check('slow', slow.measure, { timeoutMs: 5_000 }), check('failing', failing.measure)]),
    );

    expect(verdict.status).toBe('fail');
    expect(verdict.reasons).toHaveLength(1);
    expect(verdict.reasons[0]).toMatch(/^failing: fail: /);
    expect(verdict.checks.find((c) => c.name === 'slow')?.reason).toMatch(/decided by failing/);
  });

  it('name the unfinished checks when a deadline stopped the analysis', async () => {
    const slow = hanging();
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new Error('deadline reached')), 30);

    const verdict = verdictOf(
      await run([check('slow', slow.measure, { timeoutMs: 5_000 })], { signal: deadline.signal }),
    );

    expect(verdict.status).toBe('error');
    expect(verdict.reasons).toEqual([expect.stringMatching(/^slow: error: deadline reached/)]);
  });
});
