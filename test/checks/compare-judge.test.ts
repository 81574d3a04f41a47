import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeps } from '../../lib/aws/wiring.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import { formatP, lookAlpha } from '../../lib/checks/judge.ts';
import { analyze } from '../../lib/core/analyze.ts';
import { emptyCounters } from '../../lib/core/policy.ts';
import type { CheckState } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { greenlight } from '../cli/run-cli.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let blue: HttpTarget;
let green: HttpTarget;
const deps = checkDeps({});
// Before AllowTraffic, so the production listener still serves only blue.
const context = () => ({ hook: 'BeforeAllowTraffic', prodListenerUrl: blue.url, testListenerUrl: green.url });

const answerAfter =
  (ms: number, status = 200) =>
  (_req: unknown, res: { statusCode: number; end: (b: string) => void }) => {
    setTimeout(() => {
      res.statusCode = status;
      res.end('ok');
    }, ms);
  };

beforeAll(async () => {
  [blue, green] = await Promise.all([startHttpTarget(), startHttpTarget()]);
});

afterAll(async () => {
  await Promise.all([blue?.close(), green?.close()]);
});

const judged = (judge: unknown = { minSamples: 8 }, samples = 12) => ({
  type: 'compare',
  path: '/health',
  samples,
  judge,
});

describe('compare with the statistical judge', () => {
  it('fails when green is significantly and materially slower, stating U, p, shift and interval', async () => {
    blue.respond(answerAfter(2));
    green.respond(answerAfter(150));
    const o = await measureOnce(judged(), context(), deps);
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/significantly and materially slower/);
    // U is at most 12 x 12 = 144 (every green probe slower); a loaded machine may delay a few blue answers.
    const u = Number(/U=(\d+(?:\.\d+)?) p=\S+ \((?:exact|normal), n=12\/12\)/.exec(o.message)?.[1]);
    expect(u).toBeGreaterThan(120);
    expect(o.message).toMatch(/shift \+\d+(\.\d+)? ms \(95% CI -?\+?\d+(\.\d+)?\.\.\+\d+(\.\d+)? ms\)/);
    expect(o.value).toBeGreaterThan(60);
  });

  it('passes when green answers like blue', async () => {
    blue.respond(answerAfter(5));
    green.respond(answerAfter(5));
    const o = await measureOnce(judged(), context(), deps);
    expect(o.outcome).toBe('pass');
    expect(o.message).toMatch(/U=/);
  });

  it('is inconclusive when the samples are too few to tell, never a pass', async () => {
    blue.respond(answerAfter(1));
    green.respond(answerAfter(60));
    const o = await measureOnce(judged({ minSamples: 8 }, 3), context(), deps);
    expect(o.outcome).toBe('inconclusive');
    expect(o.message).toMatch(/too few latency samples/);
  });

  it('fails when green errs significantly more often than blue', async () => {
    blue.respond(answerAfter(1));
    green.respond(answerAfter(1, 503));
    const o = await measureOnce(judged(true), context(), deps);
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/errors green 12\/12 vs blue 0\/12 p=/);
  });

  it('accumulates evidence across measurements, each look at its own level', async () => {
    blue.respond(answerAfter(1));
    green.respond(answerAfter(1));
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      hooks: { '*': ['subject'] },
      checks: { subject: judged({ minSamples: 4 }, 4) },
    });
    const [run] = buildRuns([plan.checks.subject as never], context(), deps);
    const first = await run?.measure(AbortSignal.timeout(10_000));
    const second = await run?.measure(AbortSignal.timeout(10_000));
    expect(first?.message).toMatch(/look 1 at level 0\.0304/);
    expect(second?.message).toMatch(/look 2 at level 0\.0076/);
    expect(second?.message).toMatch(/n=8\/8/);
  });
});

describe('compare with the judge, resumed in a new invocation (ECS IN_PROGRESS)', () => {
  it('continues the alpha spending: the k-th measurement of the schedule tests at alpha_k', async () => {
    blue.respond(answerAfter(1));
    green.respond(answerAfter(1));
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      hooks: { '*': ['subject'] },
      checks: { subject: { ...judged({ minSamples: 4 }, 12), count: 4, interval: '10ms', inconclusiveLimit: 3 } },
    });
    // What an earlier invocation carried: 2 measurements taken (one an error), the check still running.
    const carried: CheckState = {
      ...emptyCounters,
      taken: 2,
      passes: 1,
      errors: 1,
      status: 'running',
      reason: '',
      nextAt: 0,
      recent: [],
    };
    const runs = buildRuns([plan.checks.subject as never], context(), deps);
    const messages: string[] = [];

    const analysis = await analyze({
      checks: runs,
      clock: systemClock,
      signal: AbortSignal.timeout(20_000),
      state: { startedAt: Date.now(), checks: { subject: carried } },
      onMeasurement: (_run, m) => messages.push(m.message),
    });

    expect(analysis.kind, JSON.stringify(messages)).toBe('verdict');
    expect(messages, JSON.stringify(messages)).toHaveLength(3);
    for (const [i, message] of messages.entries()) {
      const k = 3 + i;
      expect(message).toContain(`look ${k} at level ${formatP(lookAlpha(0.05, k))}`);
    }
  });
});

describe('compare.judge plan fields', () => {
  it('names unknown and out-of-range judge settings', () => {
    const problems = planProblems(judged({ alpha: 2, minLatencyShift: 'fast', minSamples: 1, typo: 1 }));
    expect(problems.join('\n')).toMatch(/checks\.subject\.judge\.typo: unknown field/);
    expect(problems.join('\n')).toMatch(/checks\.subject\.judge\.alpha: expected a number/);
    expect(problems.join('\n')).toMatch(/checks\.subject\.judge\.minLatencyShift: expected a duration/);
    expect(problems.join('\n')).toMatch(/checks\.subject\.judge\.minSamples: expected an integer/);
  });

  it('accepts true for the defaults and an object of settings', () => {
    expect(planProblems(judged(true))).toEqual([]);
    expect(
      planProblems(
        judged({
          alpha: 0.01,
          minLatencyShift: '20ms',
          minLatencyRatio: 1.1,
          minErrorRateIncrease: 0.02,
          minSamples: 10,
        }),
      ),
    ).toEqual([]);
    expect(planProblems(judged(false)).join('\n')).toMatch(/checks\.subject\.judge: expected an object/);
  });
});

describe('greenlight check with the judge', () => {
  it("prints the judge's U, p, shift and interval in the measurement line", async () => {
    blue.respond(answerAfter(1));
    green.respond(answerAfter(150));
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-judge-'));
    const planFile = join(dir, 'plan.yaml');
    await writeFile(
      planFile,
      `version: 1
allow: { addresses: [loopback] }
hooks:
  AfterAllowTestTraffic: [blue-vs-green]
checks:
  blue-vs-green:
    type: compare
    path: /health
    samples: 10
    judge: { alpha: 0.05, minLatencyShift: 25ms, minSamples: 8 }
`,
    );
    const r = await greenlight([
      'check',
      '--plan',
      planFile,
      '--hook',
      'AfterAllowTestTraffic',
      '--var',
      `testListenerUrl=${green.url}`,
      '--var',
      `prodListenerUrl=${blue.url}`,
    ]);
    expect(r.stdout).toMatch(
      /blue-vs-green\s+1\/1\s+fail\s+green significantly and materially slower: latency U=\d+(\.\d+)? p=\S+/,
    );
    expect(r.stdout).toMatch(/shift \+\d+(\.\d+)? ms \(95% CI -?\+?\d+(\.\d+)?\.\.\+\d+(\.\d+)? ms\)/);
    expect(r.code).not.toBe(0);
  }, 60_000);
});
