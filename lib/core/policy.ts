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
    consecutivePasses: outcome === 'pass' ? c.consecutivePasses + 1 : 0,
    consecutiveErrors: outcome === 'error' ? c.consecutiveErrors + 1 : 0,
  };
}

export interface Assessment {
  readonly status: CheckStatus;
  readonly reason: string;
}

/**
 * Where a check stands after its measurements so far. Decided as early as it is certain:
 * a limit exceeded, the required passes reached, or too few measurements left to reach them.
 */
export function assess(c: Counters, p: CheckPolicy): Assessment {
  const of = `${c.taken} of ${p.count} measurements`;
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
  const remaining = p.count - c.taken;
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
    const status = c.failures > 0 ? 'fail' : c.errors > 0 ? 'error' : 'inconclusive';
    return { status, reason: `no measurement passed (${of})` };
  }
  return { status: 'pass', reason: `${c.passes} passed, ${c.failures} failed, ${c.errors} errors (${of})` };
}

const severity: Record<VerdictStatus, number> = { pass: 0, inconclusive: 1, error: 2, fail: 3 };

/** The worst outcome across deciding checks. A deciding check that did not finish is an error. */
export function worst(results: readonly CheckResult[]): VerdictStatus {
  let status: VerdictStatus = 'pass';
  for (const r of results) {
    if (r.dryRun) continue;
    const s: VerdictStatus = r.status === 'running' ? 'error' : r.status;
    if (severity[s] > severity[status]) status = s;
  }
  return status;
}
