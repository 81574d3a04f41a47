import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { measurementDetailChars, measurementLine } from '../../lib/gate/evaluate.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * A bake seen in CloudWatch Logs Live Tail: at the default level (INFO) the function writes one compact
 * line per measurement (check, kind, outcome, short detail, value, durationMs, n of count, the check's
 * status), with nothing of the check's secrets in it, even when green echoes them back.
 */

const token = 'ml-tok-8c1e5a9f03d2b7';
const plainKey = 'ml-plain-2b9d71e4';
const count = 3;

const plan = JSON.stringify({
  version: 1,
  secrets: { apiToken: { ssm: '/greenlight/ml-token' } },
  hooks: { '*': ['green-api'] },
  checks: {
    'green-api': {
      type: 'http',
      url: '{{testListenerUrl}}/me',
      headers: { Authorization: 'Bearer {{secret:apiToken}}', 'X-Api-Key': plainKey },
      expect: { json: { ok: true } },
      count,
      interval: '30ms',
      failureLimit: count - 1,
    },
  },
});

let h: Harness;
let stdout: string[] = [];
let seenByGreen: string[] = [];

beforeAll(async () => {
  h = await startHarness('gl-measurement-log', {
    POWERTOOLS_LOG_LEVEL: 'INFO',
    AWS_LAMBDA_FUNCTION_NAME: 'greenlight-measurement-log-test',
  });
  const ssm = new SSMClient({ endpoint: h.moto.url, region: 'us-east-1' });
  await ssm.send(
    new PutParameterCommand({ Name: '/greenlight/ml-token', Value: token, Type: 'SecureString', Overwrite: true }),
  );
  ssm.destroy();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  clearPlanCache();
  process.env.GREENLIGHT_PLAN = plan;
  // Green echoes the credentials it was sent, at length, in a body that is not JSON.
  seenByGreen = [];
  h.green.respond((req, res) => {
    seenByGreen.push(String(req.headers.authorization));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`not json: ${req.headers.authorization} ${req.headers['x-api-key']} ${'padding '.repeat(200)}`);
  });
});

/** Runs `act` with stdout captured; what it wrote, line by line. */
async function captured(act: () => Promise<unknown>): Promise<string[]> {
  stdout = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await act();
  } finally {
    process.stdout.write = original;
  }
  return stdout.join('').split('\n').filter(Boolean);
}

describe('measurements in the function log', () => {
  it('writes one compact INFO line per measurement, n of count, with no secret in any line', async () => {
    const id = h.codeDeployDeployment();

    const lines = await captured(() =>
      h.handlers.codedeployHook({ DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` }, lambdaContext()),
    );

    // The secret did go to green, three times: its absence below means something.
    expect(seenByGreen).toEqual(Array(count).fill(`Bearer ${token}`));
    const measurements = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.message === 'measurement');
    expect(measurements.map((m) => [m.level, m.check, m.kind, m.outcome, m.n, m.count, m.checkStatus])).toEqual([
      ['INFO', 'green-api', 'http', 'fail', 1, count, 'running'],
      ['INFO', 'green-api', 'http', 'fail', 2, count, 'running'],
      ['INFO', 'green-api', 'http', 'fail', 3, count, 'fail'],
    ]);
    for (const m of measurements) {
      expect(m.detail).toMatch(/body is not JSON/);
      expect(String(m.detail).length).toBeLessThanOrEqual(measurementDetailChars);
      expect(m.durationMs).toEqual(expect.any(Number));
      expect(m.value).toBe(200);
    }
    // Small enough for 30 measurements x 10 checks in Live Tail: Powertools' own keys and ours.
    const raw = lines.filter((l) => l.includes('"message":"measurement"'));
    expect(Math.max(...raw.map((l) => l.length))).toBeLessThan(1_000);
    const all = lines.join('\n');
    for (const secret of [token, plainKey]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(0, 8));
    }
  });
});

describe('a measurement line', () => {
  it(`cuts a long detail, and a long string value, to ${measurementDetailChars} characters`, () => {
    const line = measurementLine(
      { name: 'c', kind: 'http', policy: { count: 30 } },
      { outcome: 'fail', message: 'm'.repeat(5_000), value: 'v'.repeat(5_000), startedAt: 0, durationMs: 12.345 },
      { taken: 7, status: 'running' },
    );

    expect(line).toEqual({
      check: 'c',
      kind: 'http',
      outcome: 'fail',
      detail: `${'m'.repeat(measurementDetailChars - 1)}…`,
      value: `${'v'.repeat(measurementDetailChars - 1)}…`,
      durationMs: 12,
      n: 7,
      count: 30,
      checkStatus: 'running',
    });
  });
});
