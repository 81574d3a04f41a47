import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeps } from '../../functions/shared/wiring.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { type LambdaFake, startLambdaFake } from '../../local/fakes/lambda.ts';
import { type HttpTarget, json, startHttpTarget } from '../support/http-target.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let target: HttpTarget;
let lambda: LambdaFake;
let lambdaDeps: CheckDeps;
const deps = checkDeps({});

beforeAll(async () => {
  target = await startHttpTarget();
  lambda = await startLambdaFake({});
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  lambdaDeps = checkDeps();
});

afterAll(async () => {
  await Promise.all([target?.close(), lambda?.close()]);
});

const doc = { latency: { p99: 180, availability: 0.995 }, items: [{ count: 3 }], status: 'UP', label: '12' };

describe('numeric ranges on JSON fields (http)', () => {
  it.each([
    ['max above the value', { 'latency.p99': { max: 250 } }, 'pass', undefined],
    ['max below the value', { 'latency.p99': { max: 150 } }, 'fail', 'JSON latency.p99 is 180, expected <= 150'],
    ['min met', { 'latency.availability': { min: 0.99 } }, 'pass', undefined],
    [
      'min missed',
      { 'latency.availability': { min: 0.999 } },
      'fail',
      'JSON latency.availability is 0.995, expected >= 0.999',
    ],
    ['both, inclusive', { 'items[0].count': { min: 3, max: 3 } }, 'pass', undefined],
    [
      'both, outside',
      { 'items[0].count': { min: 4, max: 9 } },
      'fail',
      'JSON items[0].count is 3, expected >= 4 and <= 9',
    ],
    [
      'a missing field',
      { 'latency.p50': { max: 100 } },
      'fail',
      'JSON latency.p50 is missing, expected a number <= 100',
    ],
    [
      'a numeric string is not a number',
      { label: { min: 0 } },
      'fail',
      'JSON label is not a number ("12"), expected a number >= 0',
    ],
    ['ranges and equality together', { status: 'UP', 'latency.p99': { max: 250 } }, 'pass', undefined],
  ] as const)('%s', async (_name, expectation, outcome, message) => {
    target.respond(json(200, doc));
    const o = await measureOnce({ type: 'http', url: `${target.url}/`, expect: { json: expectation } }, {}, deps);
    expect(o.outcome).toBe(outcome);
    if (message) expect(o.message).toContain(message);
  });

  it('names a bound that is not a number, and min above max', () => {
    const problems = planProblems({
      type: 'http',
      url: 'https://example.com/',
      expect: { json: { 'latency.p99': { max: '250' }, 'a.b': { min: 5, max: 1 } } },
    }).join('\n');
    expect(problems).toMatch(/checks\.subject\.expect\.json\.latency\.p99\.max: expected a number, got "250"/);
    expect(problems).toMatch(/checks\.subject\.expect\.json\.a\.b: min 5 is above max 1/);
  });
});

describe('numeric ranges on JSON fields (lambda-invoke)', () => {
  it('passes inside the range and fails outside it, naming the field', async () => {
    lambda.define('orders-api', () => ({ payload: JSON.stringify({ latencyMs: 420 }) }));
    const check = (max: number) => ({
      type: 'lambda-invoke',
      functionName: 'orders-api',
      qualifier: '7',
      expect: { json: { latencyMs: { max } } },
    });
    expect((await measureOnce(check(500), {}, lambdaDeps)).outcome).toBe('pass');
    const o = await measureOnce(check(300), {}, lambdaDeps);
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('JSON latencyMs is 420, expected <= 300');
  });
});
