import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { putMetric, viaMoto } from '../../local/checks-setup.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
let cloudwatch: JsonFake;
let deps: CheckDeps;
/** How GetMetricData is answered: by moto_server, unless a test sets its own answer. */
let answer: ((input: Record<string, unknown>) => unknown) | undefined;

const greenTargetGroupArn =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-green/0123456789abcdef';
const loadBalancerArn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/fedcba9876543210';

beforeAll(async () => {
  moto = await startMoto();
  const fromMoto = viaMoto(moto.url, 'GraniteServiceVersion20100801.GetMetricData', {
    service: 'monitoring',
    jsonVersion: '1.0',
  });
  cloudwatch = await startJsonFake({
    operations: { GetMetricData: (input) => (answer ? answer(input) : fromMoto(input)) },
    fallback: moto.url,
  });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudwatch.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
  await Promise.all([
    putMetric(moto.url, {
      namespace: 'Greenlight/Test',
      name: 'Errors',
      dimensions: { Service: 'orders' },
      values: [3, 4],
    }),
    putMetric(moto.url, {
      namespace: 'Greenlight/Test',
      name: 'Errors',
      dimensions: { Service: 'search' },
      values: [0],
    }),
    putMetric(moto.url, { namespace: 'Greenlight/Test', name: 'Healthy', values: [2] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([cloudwatch?.close(), moto?.stop()]);
});

beforeEach(() => {
  answer = undefined;
});

const errorsOf = (service: string) => ({
  type: 'cloudwatch-metric',
  metrics: { errors: { namespace: 'Greenlight/Test', name: 'Errors', dimensions: { Service: service }, stat: 'Sum' } },
  window: '5m',
  period: '1m',
  threshold: 5,
});

describe('cloudwatch-metric against moto_server', () => {
  it('fails when the metric is over the threshold, with the value in the message', async () => {
    const o = await measureOnce({ ...errorsOf('{{service}}'), threshold: 5 }, { service: 'orders' }, deps);

    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(7);
    expect(o.message).toMatch(/Greenlight\/Test Errors Sum: max of 1 datapoints over 5m is 7; fails when > 5/);
  });

  it('passes when the metric is within the threshold', async () => {
    const o = await measureOnce(errorsOf('search'), {}, deps);

    expect(o.outcome).toBe('pass');
    expect(o.value).toBe(0);
  });

  it('fails on no data by default, and does what noData says otherwise', async () => {
    const byDefault = await measureOnce(errorsOf('nobody-publishes-this'), {}, deps);
    const inconclusive = await measureOnce({ ...errorsOf('nobody-publishes-this'), noData: 'inconclusive' }, {}, deps);

    expect(byDefault.outcome).toBe('fail');
    expect(byDefault.message).toContain('no datapoints in the last 5m (noData: fail)');
    expect(inconclusive.outcome).toBe('inconclusive');
  });

  it('compares a floor with LessThanThreshold, judging the lowest datapoint', async () => {
    const check = {
      type: 'cloudwatch-metric',
      metrics: { healthy: { namespace: 'Greenlight/Test', name: 'Healthy', stat: 'Minimum' } },
      comparison: 'LessThanThreshold',
      threshold: 3,
    };

    const o = await measureOnce(check, {}, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/min of 1 datapoints over 5m is 2; fails when < 3/);
  });
});

describe('cloudwatch-metric with metric math (moto_server returns no values for expressions: answered by the fake)', () => {
  const ratio = {
    type: 'cloudwatch-metric',
    metrics: {
      errors: {
        namespace: 'AWS/ApplicationELB',
        name: 'HTTPCode_Target_5XX_Count',
        dimensions: { TargetGroup: '{{greenTargetGroupArn}}', LoadBalancer: loadBalancerArn },
        stat: 'Sum',
      },
      requests: {
        namespace: 'AWS/ApplicationELB',
        name: 'RequestCount',
        dimensions: { TargetGroup: '{{greenTargetGroupArn}}', LoadBalancer: loadBalancerArn },
        stat: 'Sum',
      },
    },
    expression: 'FILL(errors, 0) / requests',
    window: '10m',
    threshold: 0.01,
  };

  it('sends the metrics as inputs and the expression as the one result, with ALB dimensions cut from ARNs', async () => {
    let sent: Record<string, unknown> | undefined;
    answer = (input) => {
      sent = input;
      return {
        MetricDataResults: [{ Id: 'greenlightResult', StatusCode: 'Complete', Values: [0.001], Timestamps: [1] }],
      };
    };

    const o = await measureOnce(ratio, { greenTargetGroupArn }, deps);

    expect(o.outcome).toBe('pass');
    const queries = sent?.MetricDataQueries as Record<string, unknown>[];
    expect(queries).toHaveLength(3);
    expect(queries[0]).toMatchObject({
      Id: 'errors',
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'HTTPCode_Target_5XX_Count',
          Dimensions: [
            { Name: 'TargetGroup', Value: 'targetgroup/orders-green/0123456789abcdef' },
            { Name: 'LoadBalancer', Value: 'app/orders/fedcba9876543210' },
          ],
        },
        Period: 600,
        Stat: 'Sum',
      },
    });
    expect(queries[2]).toEqual({
      Id: 'greenlightResult',
      ReturnData: true,
      Expression: 'FILL(errors, 0) / requests',
      Period: 600,
    });
    expect(Number(sent?.EndTime) - Number(sent?.StartTime)).toBe(600);
  });

  it('fails on the worst datapoint of the expression', async () => {
    answer = () => ({
      MetricDataResults: [
        { Id: 'greenlightResult', StatusCode: 'Complete', Values: [0.002, 0.03, 0.004], Timestamps: [3, 2, 1] },
      ],
    });

    const o = await measureOnce(ratio, { greenTargetGroupArn }, deps);

    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(0.03);
  });

  it('is an error when CloudWatch reports the query Forbidden or failed', async () => {
    answer = () => ({
      MetricDataResults: [
        {
          Id: 'greenlightResult',
          StatusCode: 'InternalError',
          Values: [],
          Timestamps: [],
          Messages: [{ Code: 'ArithmeticError', Value: 'division' }],
        },
      ],
    });

    const o = await measureOnce(ratio, { greenTargetGroupArn }, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('InternalError (CloudWatch: ArithmeticError: division)');
  });

  it('reports a denied call as an error naming it', async () => {
    cloudwatch.failNext('GetMetricData', { type: 'AccessDeniedException', message: 'not authorized' });

    const o = await measureOnce(ratio, { greenTargetGroupArn }, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/GetMetricData FILL\(errors, 0\) \/ requests: AccessDeniedException: not authorized/);
  });

  it('reports throttling as an error, never a pass', async () => {
    cloudwatch.failNext(
      'GetMetricData',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      Number.POSITIVE_INFINITY,
    );

    const o = await measureOnce(errorsOf('search'), {}, deps, 800);
    cloudwatch.clearFaults('GetMetricData');

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('throttled by AWS (CloudWatch GetMetricData)');
  });
});

describe('cloudwatch-metric plan fields', () => {
  it('needs a threshold and, with several metrics, an expression', () => {
    const { threshold: _t, ...noThreshold } = errorsOf('x');
    expect(planProblems(noThreshold)).toEqual(['checks.subject.threshold: expected a number, got nothing']);
    const two = { ...errorsOf('x'), metrics: { a: errorsOf('x').metrics.errors, b: errorsOf('x').metrics.errors } };
    expect(planProblems(two)).toEqual([
      expect.stringMatching(/^checks\.subject\.expression: with more than one metric/),
    ]);
  });

  it('names bad ids, periods, comparisons and unknown metric fields', () => {
    const problems = planProblems({
      ...errorsOf('x'),
      metrics: { Errors: { namespace: 'N', name: 'M', stat: 'Sum', unit: 'Count' } },
      period: '45s',
      comparison: 'Above',
    });

    expect(problems).toEqual([
      expect.stringMatching(/^checks\.subject\.metrics\.Errors: metric ids start with a lowercase letter/),
      expect.stringMatching(/^checks\.subject\.metrics\.Errors\.unit: unknown field/),
      expect.stringMatching(/^checks\.subject\.period: must be 1s, 5s, 10s, 20s, 30s or a multiple of 1m/),
      expect.stringMatching(/^checks\.subject\.comparison: expected one of GreaterThanThreshold/),
    ]);
  });
});
