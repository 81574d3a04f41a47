import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeps } from '../../lib/aws/wiring.ts';
import { jsonParseCost, jsonParseMaxBytes } from '../../lib/checks/body-expect.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { measureOnce } from '../support/run-check.ts';

// Red team: the body budget bounds the bytes of bodies held, but not what JSON.parse makes of them:
// 10 MiB of `[{},{},...]` (within maxBodyBytes and the 40 MiB budget of a 256 MB function) parses into
// over 200 MiB of objects, and the function is killed before it can deliver a verdict. A body whose
// parse would not fit is now a failed measurement, never parsed.

let green: HttpTarget;
const deps = checkDeps({});

beforeAll(async () => {
  green = await startHttpTarget();
});

afterAll(async () => {
  await green?.close();
});

const check = {
  type: 'http',
  url: '{{testListenerUrl}}/health',
  maxBodyBytes: 10 * 1024 * 1024,
  expect: { json: { status: 'ok' } },
};

describe('a JSON body is parsed only when its parse fits in memory', () => {
  it('fails, without parsing, a body of 1.5 million empty objects that would take ~100 MiB once parsed', async () => {
    const body = `{"status":"ok","pad":[${'{},'.repeat(1_500_000)}{}]}`;
    green.respond((_req, res) => res.end(body));
    const o = await measureOnce(check, { testListenerUrl: green.url }, deps, 30_000);
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/too large to parse as JSON within memory/);
  });

  it('still parses and judges a large ordinary body', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }));
    const body = JSON.stringify({ status: 'ok', items });
    green.respond((_req, res) => res.end(body));
    const o = await measureOnce(check, { testListenerUrl: green.url }, deps, 30_000);
    expect(o.outcome).toBe('pass');
  });

  it('counts structure outside strings only', () => {
    const inString = JSON.stringify({ text: '{[,:'.repeat(100_000) });
    const structural = `[${'{},'.repeat(100_000)}{}]`;
    expect(jsonParseCost(inString)).toBeLessThan(jsonParseCost(structural));
    expect(jsonParseCost(structural)).toBeGreaterThan(100_000 * 67);
    expect(jsonParseCost('"\\\\"')).toBe(16 + 8);
    expect(jsonParseMaxBytes).toBe(32 * 1024 * 1024);
  });
});
