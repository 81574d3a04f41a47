import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { putAlarm, viaMoto } from '../../local/checks-setup.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let moto: Moto;
// CloudWatch (JSON 1.0) goes through this fake to moto_server; the fake only injects faults.
let cloudwatch: JsonFake;
let deps: CheckDeps;

beforeAll(async () => {
  moto = await startMoto();
  cloudwatch = await startJsonFake({
    operations: {
      DescribeAlarms: viaMoto(moto.url, 'GraniteServiceVersion20100801.DescribeAlarms', {
        service: 'monitoring',
        jsonVersion: '1.0',
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
  await Promise.all([
    putAlarm(moto.url, 'orders-5xx', 'OK'),
    putAlarm(moto.url, 'orders-latency', 'OK'),
    putAlarm(moto.url, 'payments-5xx', 'ALARM'),
    putAlarm(moto.url, 'payments-latency', 'OK'),
    putAlarm(moto.url, 'search-5xx', 'INSUFFICIENT_DATA'),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([cloudwatch?.close(), moto?.stop()]);
});

const check = (fields: Record<string, unknown>) => ({ type: 'cloudwatch-alarms', ...fields });

describe('cloudwatch-alarms against moto_server', () => {
  it('passes when every named alarm is OK', async () => {
    const o = await measureOnce(check({ alarms: ['orders-5xx', 'orders-latency'] }), {}, deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('2 alarms not in ALARM');
  });

  it('fails naming the alarm that is in ALARM', async () => {
    const o = await measureOnce(check({ alarms: ['orders-5xx', 'payments-5xx'] }), {}, deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/1 of 2 in ALARM: payments-5xx/);
  });

  it('checks every alarm under a name prefix, filled from the deployment context', async () => {
    const payments = await measureOnce(check({ alarmPrefix: '{{service}}-' }), { service: 'payments' }, deps);
    const orders = await measureOnce(check({ alarmPrefix: '{{service}}-' }), { service: 'orders' }, deps);

    expect(payments.outcome).toBe('fail');
    expect(payments.message).toContain('payments-5xx');
    expect(orders.outcome).toBe('pass');
  });

  it('fails on INSUFFICIENT_DATA by default, and does what the plan says otherwise', async () => {
    const byDefault = await measureOnce(check({ alarms: ['search-5xx'] }), {}, deps);
    const inconclusive = await measureOnce(
      check({ alarms: ['search-5xx'], insufficientData: 'inconclusive' }),
      {},
      deps,
    );
    const asked = await measureOnce(
      check({ alarms: ['search-5xx', 'orders-5xx'], insufficientData: 'pass' }),
      {},
      deps,
    );

    expect(byDefault.outcome).toBe('fail');
    expect(byDefault.message).toContain('INSUFFICIENT_DATA');
    expect(inconclusive.outcome).toBe('inconclusive');
    expect(asked.outcome).toBe('pass');
    expect(asked.message).toContain('1 in INSUFFICIENT_DATA (insufficientData: pass)');
  });

  it('is an error, not a pass, when a named alarm does not exist', async () => {
    const o = await measureOnce(check({ alarms: ['orders-5xx', 'no-such-alarm'] }), {}, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('not found: no-such-alarm');
  });

  it('is an error when no alarm has the prefix', async () => {
    const o = await measureOnce(check({ alarmPrefix: 'nothing-here-' }), {}, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('no alarm has this prefix');
  });

  it('reports throttling that outlasts the measurement as an error saying so, after retrying it', async () => {
    cloudwatch.failNext(
      'DescribeAlarms',
      { type: 'ThrottlingException', message: 'Rate exceeded' },
      Number.POSITIVE_INFINITY,
    );
    const before = cloudwatch.callsOf('DescribeAlarms').length;

    const o = await measureOnce(check({ alarms: ['orders-5xx'] }), {}, deps, 800);
    cloudwatch.clearFaults('DescribeAlarms');

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/DescribeAlarms .*throttled by AWS \(CloudWatch DescribeAlarms\) for 0\.\d s/);
    expect(cloudwatch.callsOf('DescribeAlarms').length - before).toBeGreaterThan(1);
  });

  it('reports access denied as an error', async () => {
    cloudwatch.failNext('DescribeAlarms', {
      type: 'AccessDeniedException',
      message: 'not authorized to cloudwatch:DescribeAlarms',
    });

    const o = await measureOnce(check({ alarmPrefix: 'orders-' }), {}, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('AccessDeniedException');
  });
});

describe('cloudwatch-alarms plan fields', () => {
  it('needs alarms or alarmPrefix, and not both', () => {
    expect(planProblems(check({}))).toEqual([expect.stringMatching(/^checks\.subject\.alarms: give alarms/)]);
    expect(planProblems(check({ alarms: ['a'], alarmPrefix: 'b' }))).toEqual([
      expect.stringMatching(/^checks\.subject\.alarmPrefix: give either/),
    ]);
  });

  it('names a bad insufficientData value and an empty name', () => {
    expect(planProblems(check({ alarms: [''], insufficientData: 'ignore' }))).toEqual([
      'checks.subject.alarms[0]: must not be empty',
      expect.stringMatching(/^checks\.subject\.insufficientData: expected one of fail, inconclusive, error, pass/),
    ]);
  });
});
