import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { Measurement } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { type LambdaFake, startLambdaFake } from '../../local/fakes/lambda.ts';

// Red team (held): only AWS throttling greenlight's own reads is taken again. Green answering "too many
// requests" is evidence about green: a smoke invocation Lambda throttles (green's concurrency, TooManyRequests)
// and an HTTP 429 from green count at once, and with consecutiveErrorLimit 0 / failureLimit 0 decide the check.

let lambda: LambdaFake;
let green: Server;
let greenUrl: string;
let deps: CheckDeps;

beforeAll(async () => {
  lambda = await startLambdaFake();
  green = createServer((_req, res) => {
    res.statusCode = 429;
    res.setHeader('retry-after', '1');
    res.end('slow down');
  });
  await new Promise<void>((resolve) => green.listen(0, '127.0.0.1', resolve));
  greenUrl = `http://127.0.0.1:${(green.address() as AddressInfo).port}/health`;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.url;
  const { checkDeps } = await import('../../functions/shared/wiring.ts');
  deps = checkDeps();
});

afterAll(async () => {
  await lambda?.close();
  await new Promise((resolve) => green?.close(resolve));
});

async function run(check: Record<string, unknown>) {
  const plan = parsePlan({
    version: 1,
    hooks: { '*': ['subject'] },
    checks: { subject: { count: 3, interval: '100ms', timeout: '3s', ...check } },
    allow: { addresses: ['loopback'] },
  });
  const [r] = buildRuns(Object.values(plan.checks), {}, { ...deps, clock: systemClock });
  if (!r) throw new Error('no run');
  const seen: Measurement[] = [];
  const analysis = await analyze({
    checks: [r],
    clock: systemClock,
    signal: AbortSignal.timeout(20_000),
    deadlineAt: Date.now() + 20_000,
    onMeasurement: (_c, m) => seen.push(m),
  });
  if (analysis.kind !== 'verdict') throw new Error('expected a verdict');
  return { verdict: analysis.verdict, seen };
}

describe("green's own throttling is not AWS throttling greenlight", () => {
  it('a smoke invocation Lambda answers TooManyRequestsException is an error counted at once, not taken again', async () => {
    lambda.define('orders-api', () => ({ payload: '{}' }));
    lambda.failNext(
      { type: 'TooManyRequestsException', status: 429, message: 'Rate Exceeded.' },
      Number.POSITIVE_INFINITY,
    );
    const { verdict, seen } = await run({ type: 'lambda-invoke', functionName: 'orders-api', qualifier: '7' });
    expect(verdict.status).toBe('error');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.throttled).toBeUndefined();
    expect(seen[0]?.message).toContain('TooManyRequestsException');
  });

  it('an HTTP 429 from green is a failed measurement, not taken again', async () => {
    const { verdict, seen } = await run({ type: 'http', url: greenUrl });
    expect(verdict.status).toBe('fail');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.outcome).toBe('fail');
  });
});
