import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { CheckRun } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { putAlarm, viaMoto } from '../../local/checks-setup.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';

// Red team (issue 14 read reuse, the class of reused-reading-false-pass.test.ts): cloudwatch-alarms reuses a
// DescribeAlarms reading for an alarm period (60 s), cloudwatch-metric a GetMetricData reading for the metric's
// period. CloudWatch evaluates an alarm at any moment relative to a reading, so an alarm that went into ALARM
// (a metric that crossed its threshold) right after the first reading still passed a short bake judged on that
// reading alone. The measurement whose pass completes the check now reads afresh.

let moto: Moto;
let cloudwatch: JsonFake;
let deps: CheckDeps;
/** The error count GetMetricData answers. */
let errors = 0;

beforeAll(async () => {
  moto = await startMoto();
  cloudwatch = await startJsonFake({
    operations: {
      DescribeAlarms: viaMoto(moto.url, 'GraniteServiceVersion20100801.DescribeAlarms', {
        service: 'monitoring',
        jsonVersion: '1.0',
      }),
      GetMetricData: (input) => ({
        MetricDataResults: ((input.MetricDataQueries as { Id: string }[]) ?? []).map((q) => ({
          Id: q.Id,
          StatusCode: 'Complete',
          Values: [errors],
          Timestamps: [Math.floor(Date.now() / 1000) - 60],
        })),
      }),
    },
    fallback: moto.url,
  });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudwatch.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
}, 60_000);

afterAll(async () => {
  await Promise.all([cloudwatch?.close(), moto?.stop()]);
});

const policy = { count: 3, interval: '150ms', timeout: '3s' };

function runOf(check: Record<string, unknown>): CheckRun {
  const plan = parsePlan({ version: 1, hooks: { '*': ['subject'] }, checks: { subject: { ...check, ...policy } } });
  const [run] = buildRuns(Object.values(plan.checks), {}, { ...deps, clock: systemClock });
  if (!run) throw new Error('no run');
  return run;
}

async function verdictOf(run: CheckRun, afterFirst: () => Promise<void> | void) {
  let first: Promise<void> | undefined;
  const analysis = await analyze({
    checks: [run],
    clock: systemClock,
    signal: AbortSignal.timeout(20_000),
    deadlineAt: Date.now() + 20_000,
    onMeasurement: () => {
      first ??= Promise.resolve(afterFirst());
    },
  });
  await first;
  if (analysis.kind !== 'verdict') throw new Error('expected a verdict');
  return analysis.verdict;
}

describe('a reading reused for a CloudWatch period', () => {
  it('cloudwatch-alarms: fails an alarm that went into ALARM after the first reading', async () => {
    await putAlarm(moto.url, 'rt4-orders-5xx', 'OK');
    let flipped: Promise<void> | undefined;
    const verdict = await verdictOf(runOf({ type: 'cloudwatch-alarms', alarms: ['rt4-orders-5xx'] }), () => {
      flipped = putAlarm(moto.url, 'rt4-orders-5xx', 'ALARM');
      return flipped;
    });
    await flipped;
    expect(verdict.status).toBe('fail');
    expect(verdict.reasons[0]).toContain('in ALARM: rt4-orders-5xx');
  });

  it('cloudwatch-metric: fails a metric that crossed its threshold after the first reading', async () => {
    errors = 0;
    const verdict = await verdictOf(
      runOf({
        type: 'cloudwatch-metric',
        metrics: { errors: { namespace: 'Greenlight/Test', name: 'Errors', stat: 'Sum' } },
        window: '5m',
        period: '1m',
        threshold: 5,
      }),
      () => {
        errors = 50;
      },
    );
    expect(verdict.status).toBe('fail');
  });
});
