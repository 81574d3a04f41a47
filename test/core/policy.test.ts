import { describe, expect, it } from 'vitest';
import {
  assess,
  count,
  emptyCounters,
  longestScheduleMs,
  maxAttempts,
  requiredPasses,
  worst,
} from '../../lib/core/policy.ts';
import type { CheckPolicy, CheckResult, CheckStatus, Counters, Outcome } from '../../lib/core/types.ts';

const basePolicy: CheckPolicy = {
  initialDelayMs: 0,
  count: 3,
  intervalMs: 1000,
  timeoutMs: 1000,
  failureLimit: 0,
  consecutiveErrorLimit: 0,
  consecutiveSuccesses: 0,
  inconclusiveLimit: 0,
  dryRun: false,
};

function policy(overrides: Partial<CheckPolicy> = {}): CheckPolicy {
  return { ...basePolicy, ...overrides };
}

function counted(outcomes: readonly Outcome[]): Counters {
  return outcomes.reduce(count, emptyCounters);
}

function checkResult(status: CheckStatus, dryRun = false, name = 'c'): CheckResult {
  // A passed check passed on a measurement: that is what the core reports.
  const counters = status === 'pass' ? counted(['pass']) : emptyCounters;
  return { name, kind: 'fake', status, dryRun, reason: '', counters, recent: [] };
}

describe('count', () => {
  it('tallies each outcome and the measurements taken', () => {
    // Act
    const c = counted(['pass', 'fail', 'error', 'inconclusive', 'pass']);

    // Assert
    expect(c).toMatchObject({ taken: 5, passes: 2, failures: 1, errors: 1, inconclusives: 1 });
  });

  it.each<[string, Outcome[], number, number]>([
    ['passes in a row', ['pass', 'pass'], 2, 0],
    ['a failure resets the pass streak', ['pass', 'pass', 'fail'], 0, 0],
    ['an error resets the pass streak and starts an error streak', ['pass', 'error', 'error'], 0, 2],
    ['a pass resets the error streak', ['error', 'error', 'pass'], 1, 0],
    ['an inconclusive resets both streaks', ['error', 'inconclusive'], 0, 0],
  ])('tracks streaks: %s', (_name, outcomes, consecutivePasses, consecutiveErrors) => {
    // Act
    const c = counted(outcomes);

    // Assert
    expect({ consecutivePasses: c.consecutivePasses, consecutiveErrors: c.consecutiveErrors }).toEqual({
      consecutivePasses,
      consecutiveErrors,
    });
  });

  it('never counts an error as a pass', () => {
    // Act
    const c = counted(['error', 'error', 'error']);

    // Assert
    expect(c.passes).toBe(0);
    expect(c.consecutivePasses).toBe(0);
  });

  it('does not mutate the counters it is given', () => {
    // Arrange
    const before = { ...emptyCounters };

    // Act
    count(emptyCounters, 'pass');

    // Assert
    expect(emptyCounters).toEqual(before);
  });
});

describe('assess', () => {
  it.each<[string, Partial<CheckPolicy>, Outcome[], CheckStatus]>([
    // failureLimit
    ['nothing measured yet is running', {}, [], 'running'],
    ['default failureLimit 0: the first failure fails', {}, ['fail'], 'fail'],
    ['default failureLimit 0: a failure after passes fails', {}, ['pass', 'pass', 'fail'], 'fail'],
    ['failureLimit 1: one failure is tolerated', { failureLimit: 1 }, ['fail'], 'running'],
    ['failureLimit 1: a second failure fails', { failureLimit: 1 }, ['fail', 'pass', 'fail'], 'fail'],
    ['failureLimit 1: one failure then passes passes', { failureLimit: 1 }, ['fail', 'pass', 'pass'], 'pass'],
    // consecutiveErrorLimit
    ['default consecutiveErrorLimit 0: the first error errors', {}, ['error'], 'error'],
    [
      'consecutiveErrorLimit 2: two errors in a row are tolerated',
      { count: 5, consecutiveErrorLimit: 2 },
      ['error', 'error'],
      'running',
    ],
    [
      'consecutiveErrorLimit 2: a third error in a row errors',
      { count: 5, consecutiveErrorLimit: 2 },
      ['error', 'error', 'error'],
      'error',
    ],
    [
      'consecutiveErrorLimit 1: errors broken by a pass are tolerated, and do not count toward count',
      { count: 4, consecutiveErrorLimit: 1 },
      ['error', 'pass', 'error', 'pass'],
      'running',
    ],
    [
      'consecutiveErrorLimit 1: passes once count measurements that are not errors came in',
      { count: 4, consecutiveErrorLimit: 1 },
      ['error', 'pass', 'error', 'pass', 'pass', 'error', 'pass'],
      'pass',
    ],
    [
      'issue 11: 1 pass and 2 errors of count 3 is not a pass (errors use up nothing)',
      { count: 3, consecutiveErrorLimit: 1 },
      ['error', 'pass', 'error'],
      'running',
    ],
    [
      'issue 11: the measurement after the retried errors decides (503 fails)',
      { count: 3, consecutiveErrorLimit: 1 },
      ['error', 'pass', 'error', 'fail'],
      'fail',
    ],
    // inconclusiveLimit
    ['default inconclusiveLimit 0: the first inconclusive is inconclusive', {}, ['inconclusive'], 'inconclusive'],
    [
      'inconclusiveLimit 1: one inconclusive is tolerated',
      { inconclusiveLimit: 1 },
      ['inconclusive', 'pass'],
      'running',
    ],
    [
      'inconclusiveLimit 1: a second inconclusive is inconclusive',
      { inconclusiveLimit: 1 },
      ['inconclusive', 'pass', 'inconclusive'],
      'inconclusive',
    ],
    // precedence when several limits are exceeded at once
    ['failure wins over errors', { count: 5 }, ['error', 'fail'], 'fail'],
    ['errors win over inconclusive', { count: 5 }, ['inconclusive', 'error'], 'error'],
    // consecutiveSuccesses
    [
      'consecutiveSuccesses 2: passes early after two in a row',
      { count: 5, consecutiveSuccesses: 2 },
      ['pass', 'pass'],
      'pass',
    ],
    ['consecutiveSuccesses 2: one pass keeps running', { count: 5, consecutiveSuccesses: 2 }, ['pass'], 'running'],
    [
      'consecutiveSuccesses 2: a broken streak keeps running while reachable',
      { count: 5, failureLimit: 5, consecutiveSuccesses: 2 },
      ['pass', 'fail', 'pass'],
      'running',
    ],
    [
      'consecutiveSuccesses 2: fails early once it can no longer be reached',
      { count: 3, failureLimit: 5, consecutiveSuccesses: 2 },
      ['fail', 'fail'],
      'fail',
    ],
    [
      'consecutiveSuccesses 3: fails when count runs out mid-streak',
      { count: 4, failureLimit: 5, consecutiveSuccesses: 3 },
      ['fail', 'pass', 'pass', 'fail'],
      'fail',
    ],
    [
      'consecutiveSuccesses 2: errors never make the streak, nor use up count',
      { count: 3, consecutiveErrorLimit: 5, consecutiveSuccesses: 2 },
      ['error', 'error'],
      'running',
    ],
    [
      'consecutiveSuccesses 2: an error breaks the streak',
      { count: 2, consecutiveErrorLimit: 5, consecutiveSuccesses: 2 },
      ['pass', 'error', 'pass'],
      'fail',
    ],
    // count exhausted
    ['count exhausted with passes passes', {}, ['pass', 'pass', 'pass'], 'pass'],
    [
      'count reached with some tolerated errors between the passes passes',
      { consecutiveErrorLimit: 1 },
      ['error', 'pass', 'error', 'pass', 'pass'],
      'pass',
    ],
    [
      'only tolerated errors keep the check running: they never use up count',
      { count: 2, consecutiveErrorLimit: 5 },
      ['error', 'error'],
      'running',
    ],
    ['count 0 is an error, never a pass', { count: 0 }, [], 'error'],
    [
      'count exhausted with only tolerated inconclusives is inconclusive, never a pass',
      { count: 2, inconclusiveLimit: 5 },
      ['inconclusive', 'inconclusive'],
      'inconclusive',
    ],
    [
      'count exhausted with only tolerated failures fails, never a pass',
      { count: 2, failureLimit: 5 },
      ['fail', 'fail'],
      'fail',
    ],
    [
      'count exhausted with tolerated failures and errors but no pass fails',
      { count: 3, failureLimit: 5, consecutiveErrorLimit: 5 },
      ['error', 'fail', 'error', 'fail', 'fail'],
      'fail',
    ],
  ])('%s', (_name, overrides, outcomes, expected) => {
    // Act
    const assessment = assess(counted(outcomes), policy(overrides));

    // Assert
    expect(assessment.status).toBe(expected);
  });

  it.each<[string, Partial<CheckPolicy>, Outcome[], string]>([
    ['failureLimit', { failureLimit: 1 }, ['fail', 'fail'], '2 failed (failureLimit 1) after 2 of 3 measurements'],
    [
      'consecutiveErrorLimit',
      {},
      ['error'],
      '1 consecutive errors (consecutiveErrorLimit 0) after 0 of 3 measurements (and 1 error, not counted)',
    ],
    ['inconclusiveLimit', {}, ['inconclusive'], '1 inconclusive (inconclusiveLimit 0) after 1 of 3 measurements'],
    [
      'no pass',
      { consecutiveErrorLimit: 5, inconclusiveLimit: 5 },
      ['error', 'inconclusive', 'inconclusive', 'inconclusive'],
      'no measurement passed (3 of 3 measurements (and 1 error, not counted))',
    ],
    ['count 0', { count: 0 }, [], 'count is 0: a check needs at least 1 measurement'],
    [
      'unreachable streak',
      { count: 2, failureLimit: 5, consecutiveSuccesses: 2 },
      ['fail'],
      'cannot reach 2 consecutive passes',
    ],
    [
      'early pass',
      { count: 5, consecutiveSuccesses: 2 },
      ['pass', 'pass'],
      '2 consecutive passes after 2 of 5 measurements',
    ],
  ])('states why, naming the %s', (_name, overrides, outcomes, reason) => {
    // Act
    const assessment = assess(counted(outcomes), policy(overrides));

    // Assert
    expect(assessment.reason).toContain(reason);
  });
});

describe('worst', () => {
  it('is inconclusive when there are no checks: nothing measured green', () => {
    expect(worst([])).toBe('inconclusive');
  });

  it('is pass with no checks only when the caller says the plan lists none', () => {
    expect(worst([], true)).toBe('pass');
  });

  it.each<[CheckStatus, CheckStatus, string]>([
    ['pass', 'pass', 'pass'],
    ['pass', 'inconclusive', 'inconclusive'],
    ['inconclusive', 'error', 'error'],
    ['error', 'fail', 'fail'],
    ['fail', 'inconclusive', 'fail'],
    ['fail', 'error', 'fail'],
    ['error', 'pass', 'error'],
  ])('of %s and %s is %s', (a, b, expected) => {
    // Act
    const status = worst([checkResult(a, false, 'a'), checkResult(b, false, 'b')]);

    // Assert
    expect(status).toBe(expected);
  });

  it('treats a deciding check that did not finish as an error', () => {
    expect(worst([checkResult('pass'), checkResult('running')])).toBe('error');
  });

  it('issue 11: reports an inconclusive check as inconclusive, not the error of a check it stopped', () => {
    expect(worst([checkResult('inconclusive', false, 'a'), checkResult('running', false, 'b')])).toBe('inconclusive');
  });

  it('is not a pass when a deciding check reports pass without a passing measurement', () => {
    // Arrange: a pass the core never produces, as a corrupted or hand-made result could claim
    const forged: CheckResult = { ...checkResult('pass'), counters: emptyCounters };

    // Act + Assert
    expect(worst([forged])).toBe('error');
  });

  it('ignores dry-run checks, even failing or unfinished ones', () => {
    // Arrange
    const results = [
      checkResult('pass', false, 'a'),
      checkResult('fail', true, 'b'),
      checkResult('running', true, 'c'),
    ];

    // Act
    const status = worst(results);

    // Assert
    expect(status).toBe('pass');
  });

  it('is inconclusive when every check is dry-run, even with noChecksPass: nothing decides', () => {
    expect(worst([checkResult('pass', true)], true)).toBe('inconclusive');
  });
});

describe('the bounds of a schedule (issue 11)', () => {
  it.each<[string, Partial<CheckPolicy>, number]>([
    ['count alone when no error is tolerated', { count: 3 }, 3],
    ['count × (consecutiveErrorLimit + 1)', { count: 3, consecutiveErrorLimit: 2 }, 9],
    ['nothing for count 0', { count: 0, consecutiveErrorLimit: 2 }, 0],
  ])('takes at most %s measurements', (_name, overrides, attempts) => {
    expect(maxAttempts(policy(overrides))).toBe(attempts);
  });

  it('lasts the initial delay, an interval (or a timeout, when longer) between attempts, and the last timeout', () => {
    expect(
      longestScheduleMs(policy({ initialDelayMs: 500, count: 2, consecutiveErrorLimit: 1, intervalMs: 1000 })),
    ).toBe(500 + 500 + 3 * 1000 + 1000);
    // The first measurement's jitter (half an interval, at most 2.5 s) counts too.
    expect(longestScheduleMs(policy({ count: 3, intervalMs: 100, timeoutMs: 400 }))).toBe(50 + 2 * 400 + 400);
  });

  it.each<[string, Partial<CheckPolicy>, number]>([
    ['count when nothing is tolerated', { count: 3 }, 3],
    ['count less the tolerated failures and inconclusives', { count: 5, failureLimit: 1, inconclusiveLimit: 2 }, 2],
    ['never fewer than 1', { count: 2, failureLimit: 3, inconclusiveLimit: 3 }, 1],
    ['consecutiveSuccesses when set', { count: 5, failureLimit: 4, consecutiveSuccesses: 3 }, 3],
  ])('requires %s passes', (_name, overrides, passes) => {
    expect(requiredPasses(policy(overrides))).toBe(passes);
  });
});
