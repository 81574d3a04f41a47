import type { CheckPolicy, CheckResult, CheckStatus, Counters, Outcome, VerdictStatus } from './types.ts';

export const emptyCounters: Counters = {
  taken: 0,
  passes: 0,
  failures: 0,
  errors: 0,
  inconclusives: 0,
  consecutivePasses: 0,
  consecutiveErrors: 0,
};

/** Counters after one more measurement with `outcome`. */
export function count(c: Counters, outcome: Outcome): Counters {
  return {
    taken: c.taken + 1,
    passes: c.passes + (outcome === 'pass' ? 1 : 0),
    failures: c.failures + (outcome === 'fail' ? 1 : 0),
    errors: c.errors + (outcome === 'error' ? 1 : 0),
    inconclusives: c.inconclusives + (outcome === 'inconclusive' ? 1 : 0),
    // An error breaks a run of passes: nobody saw green healthy in between.
    consecutivePasses: outcome === 'pass' ? c.consecutivePasses + 1 : 0,
    consecutiveErrors: outcome === 'error' ? c.consecutiveErrors + 1 : 0,
  };
}

/**
 * The measurements that count toward `count`: passes, failures and inconclusives. An error ("could not
 * measure") is retried instead, as Argo Rollouts does, bounded by `consecutiveErrorLimit`.
 */
export function measured(c: Counters): number {
  return c.passes + c.failures + c.inconclusives;
}

/** Why a policy cannot decide anything, or `undefined` when it can. The plan schema refuses these; the core re-checks. */
export function policyProblem(p: CheckPolicy): string | undefined {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!Number.isSafeInteger(p.count) || p.count < 1) {
    return `count is ${p.count}: a check needs at least 1 measurement`;
  }
  if (
    !whole(p.failureLimit) ||
    !whole(p.consecutiveErrorLimit) ||
    !whole(p.inconclusiveLimit) ||
    !whole(p.consecutiveSuccesses) ||
    p.consecutiveSuccesses > p.count
  ) {
    return 'the limits must be whole numbers, and consecutiveSuccesses at most count';
  }
  return undefined;
}

/**
 * The fewest passing measurements with which a check can pass: `consecutiveSuccesses` when set, else
 * `count` less the failures and inconclusives it tolerates, and never fewer than 1.
 */
export function requiredPasses(p: CheckPolicy): number {
  if (p.consecutiveSuccesses > 0) return p.consecutiveSuccesses;
  return Math.max(1, p.count - p.failureLimit - p.inconclusiveLimit);
}

/**
 * The most measurements a check can take, errors included: before each of its `count` measurements at
 * most `consecutiveErrorLimit` errors in a row are retried; one more ends the check in error.
 */
export function maxAttempts(p: CheckPolicy): number {
  return Math.max(0, p.count) * (p.consecutiveErrorLimit + 1);
}

/**
 * The longest a check's schedule can take, in milliseconds: the jitter and the initial delay, then `maxAttempts`
 * measurements, each starting an interval after the previous one started (or when it ended, when it ran
 * longer), the last one running to its timeout.
 */
export function longestScheduleMs(p: CheckPolicy): number {
  const attempts = maxAttempts(p);
  if (attempts === 0) return 0;
  return initialJitterMaxMs(p) + p.initialDelayMs + (attempts - 1) * Math.max(p.intervalMs, p.timeoutMs) + p.timeoutMs;
}

/**
 * The most the first measurement is delayed to spread deployments that start together (`scheduleJitter`
 * in analyze.ts): half an interval, at most 2.5 s. Counted in every schedule length.
 */
export function initialJitterMaxMs(p: CheckPolicy): number {
  return Math.floor(Math.min(p.intervalMs / 2, 2_500));
}

export interface Assessment {
  readonly status: CheckStatus;
  readonly reason: string;
}

/**
 * Where a check stands after its measurements so far. Decided as early as it is certain:
 * a limit exceeded, the required passes reached, or too few measurements left to reach them.
 * A check passes only on evidence: at least one passing measurement, `count` measurements that are not
 * errors (or `consecutiveSuccesses` passes in a row), and every limit kept. Errors never take a
 * measurement's place.
 */
export function assess(c: Counters, p: CheckPolicy): Assessment {
  const problem = policyProblem(p);
  if (problem !== undefined) return { status: 'error', reason: problem };
  const done = measured(c);
  const errors = c.errors > 0 ? ` (and ${c.errors} ${c.errors === 1 ? 'error' : 'errors'}, not counted)` : '';
  const of = `${done} of ${p.count} measurements${errors}`;
  if (c.failures > p.failureLimit) {
    return {
      status: 'fail',
      reason: `${c.failures} failed (failureLimit ${p.failureLimit}) after ${of}`,
    };
  }
  if (c.consecutiveErrors > p.consecutiveErrorLimit) {
    return {
      status: 'error',
      reason: `${c.consecutiveErrors} consecutive errors (consecutiveErrorLimit ${p.consecutiveErrorLimit}) after ${of}`,
    };
  }
  if (c.inconclusives > p.inconclusiveLimit) {
    return {
      status: 'inconclusive',
      reason: `${c.inconclusives} inconclusive (inconclusiveLimit ${p.inconclusiveLimit}) after ${of}`,
    };
  }
  const remaining = p.count - done;
  if (p.consecutiveSuccesses > 0) {
    if (c.consecutivePasses >= p.consecutiveSuccesses) {
      return {
        status: 'pass',
        reason: `${c.consecutivePasses} consecutive passes after ${of}`,
      };
    }
    if (c.consecutivePasses + remaining < p.consecutiveSuccesses) {
      return {
        status: 'fail',
        reason: `cannot reach ${p.consecutiveSuccesses} consecutive passes: ${c.consecutivePasses} in a row with ${remaining} measurements left (${of})`,
      };
    }
    return { status: 'running', reason: `${of} taken` };
  }
  if (remaining > 0) return { status: 'running', reason: `${of} taken` };
  if (c.passes === 0) {
    // Nothing passed: the worst thing seen decides, and a check never passes on no evidence.
    const status = c.failures > 0 ? 'fail' : 'inconclusive';
    return { status, reason: `no measurement passed (${of})` };
  }
  return {
    status: 'pass',
    reason: `${c.passes} passed, ${c.failures} failed, ${c.inconclusives} inconclusive (${of})`,
  };
}

const severity: Record<VerdictStatus, number> = { pass: 0, inconclusive: 1, error: 2, fail: 3 };

/**
 * The verdict's status from its checks' results, fail closed:
 * - the worst status among deciding checks that finished, when one did not pass: a check it stopped
 *   early (still `running`) changes nothing, it was cancelled by that outcome;
 * - else `error` when a deciding check did not finish (a deadline, an abort);
 * - else `inconclusive` when no check decides (nothing measured green), unless `noChecksPass` and no
 *   check was given at all (the plan explicitly lists none for this hook);
 * - else `pass`: every deciding check passed, each on at least one passing measurement.
 */
export function worst(results: readonly CheckResult[], noChecksPass = false): VerdictStatus {
  const deciding = results.filter((r) => !r.dryRun);
  let status: VerdictStatus = 'pass';
  for (const r of deciding) {
    if (r.status === 'running') continue;
    if (severity[r.status] > severity[status]) status = r.status;
  }
  if (status !== 'pass') return status;
  if (deciding.some((r) => r.status === 'running')) return 'error';
  if (deciding.length === 0) return noChecksPass && results.length === 0 ? 'pass' : 'inconclusive';
  // Defence in depth: a deciding check reported as passed without a passing measurement is not a pass.
  if (deciding.some((r) => r.counters.passes < 1)) return 'error';
  return 'pass';
}
