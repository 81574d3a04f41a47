import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { Verdict } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';

/**
 * Issue 11, end to end: an error ("could not measure") never takes a measurement's place. A real
 * server on loopback answers in turn: connection reset, 200, reset, 503, ... and the plan is parsed and
 * built as a trigger builds it.
 */

const deps: CheckDeps = { clock: systemClock };

async function verdictOf(check: Record<string, unknown>): Promise<Verdict> {
  const plan = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    hooks: { '*': ['probe'] },
    checks: { probe: check },
  });
  const runs = buildRuns(Object.values(plan.checks), {}, deps);
  const analysis = await analyze({ checks: runs, clock: systemClock, signal: AbortSignal.timeout(10_000) });
  if (analysis.kind !== 'verdict') throw new Error('suspended');
  return analysis.verdict;
}

let target: HttpTarget;

beforeAll(async () => {
  target = await startHttpTarget();
});

afterAll(async () => {
  await target.close();
});

/** Answers each request with the next of `answers` (the last repeats): a status, or `reset`. */
function answering(...answers: (number | 'reset')[]): void {
  let n = 0;
  target.hits.length = 0;
  target.respond((req, res) => {
    const answer = answers[Math.min(n++, answers.length - 1)];
    if (answer === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(answer ?? 200, { connection: 'close' });
    res.end();
  });
}

describe('errors do not count toward count (issue 11)', () => {
  it('fails on the 503 behind two connection resets: count 3, interval 200ms, consecutiveErrorLimit 1', async () => {
    // Arrange
    answering('reset', 200, 'reset', 503, 200);

    // Act
    const v = await verdictOf({
      type: 'http',
      url: `${target.url}/health`,
      count: 3,
      interval: '200ms',
      consecutiveErrorLimit: 1,
    });

    // Assert: before, 1 pass and 2 errors used up count 3 and the verdict passed without seeing the 503
    expect(v.status).toBe('fail');
    expect(v.reasons[0]).toMatch(
      /^probe: fail: 1 failed \(failureLimit 0\) after 2 of 3 measurements \(and 2 errors, not counted\); last: .*status 503/,
    );
    expect(target.hits).toHaveLength(4);
  });

  it('passes only on count measurements that passed, retrying the resets in between', async () => {
    // Arrange
    answering('reset', 200, 'reset', 200, 200);

    // Act
    const v = await verdictOf({
      type: 'http',
      url: `${target.url}/health`,
      count: 3,
      interval: '50ms',
      consecutiveErrorLimit: 1,
    });

    // Assert
    expect(v.status).toBe('pass');
    expect(v.checks[0]?.counters).toMatchObject({ passes: 3, errors: 2, taken: 5 });
    expect(target.hits).toHaveLength(5);
  });

  it('ends in error when the resets exceed consecutiveErrorLimit: retries stay bounded', async () => {
    // Arrange
    answering('reset');

    // Act
    const v = await verdictOf({
      type: 'http',
      url: `${target.url}/health`,
      count: 3,
      interval: '20ms',
      consecutiveErrorLimit: 2,
    });

    // Assert
    expect(v.status).toBe('error');
    expect(target.hits).toHaveLength(3);
  });
});

describe('count 0 (issue 11)', () => {
  it('refuses {type: http, url: <nothing listening>, count: 0} as a plan error, before any probe', async () => {
    // Arrange: a port nothing listens on
    const closed = await startHttpTarget();
    await closed.close();

    // Act + Assert: before, this was Succeeded with 0 probes and "all 1 deciding checks passed"
    await expect(verdictOf({ type: 'http', url: `${closed.url}/health`, count: 0 })).rejects.toThrow(PlanError);
    await expect(verdictOf({ type: 'http', url: `${closed.url}/health`, count: 0 })).rejects.toThrow(
      /checks\.probe\.count: must be at least 1, got 0/,
    );
  });
});
