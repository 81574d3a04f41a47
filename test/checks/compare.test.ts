import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkDeps } from '../../functions/shared/wiring.ts';
import { percentile } from '../../lib/checks/compare.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { measureOnce, planProblems } from '../support/run-check.ts';

let blue: HttpTarget;
let green: HttpTarget;
const deps = checkDeps({});

/** What the triggers resolve from the load balancer: production listener to blue, test listener to green. */
// Before AllowTraffic, so the production listener still serves only blue.
const context = () => ({ hook: 'BeforeAllowTraffic', prodListenerUrl: blue.url, testListenerUrl: green.url });
const compare = (fields: Record<string, unknown> = {}) => ({
  type: 'compare',
  path: '/health',
  samples: 10,
  ...fields,
});

const delayed =
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

beforeEach(() => {
  blue.respond((_req, res) => res.end('ok'));
  green.respond((_req, res) => res.end('ok'));
  blue.hits.length = 0;
  green.hits.length = 0;
});

describe('compare, blue (production listener) against green (test listener)', () => {
  it('passes when green is as good as blue, probing both sides the same number of times', async () => {
    const o = await measureOnce(compare(), context(), deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toMatch(
      /^green within margins of blue: green 0\/10 errors \(0%\), p95 \d+ ms; blue 0\/10 errors \(0%\), p95 \d+ ms$/,
    );
    expect(blue.hits).toEqual(Array(10).fill('/health'));
    expect(green.hits).toEqual(Array(10).fill('/health'));
  });

  it("fails when green's error rate exceeds blue's by more than the margin", async () => {
    let n = 0;
    green.respond((_req, res) => {
      res.statusCode = n++ % 5 === 0 ? 503 : 200;
      res.end('ok');
    });

    const strict = await measureOnce(compare(), context(), deps);
    const lenient = await measureOnce(compare({ maxErrorRateIncrease: 0.2 }), context(), deps);

    expect(strict.outcome).toBe('fail');
    expect(strict.message).toContain("green error rate exceeds blue's by 20% (allowed 5%)");
    expect(strict.message).toContain('first green problem: GET');
    expect(strict.message).toContain('status 503');
    expect(lenient.outcome).toBe('pass');
  });

  it('judges errors relative to blue: the same error rate on both sides passes', async () => {
    let b = 0;
    let g = 0;
    blue.respond((_req, res) => {
      res.statusCode = b++ % 2 === 0 ? 500 : 200;
      res.end();
    });
    green.respond((_req, res) => {
      res.statusCode = g++ % 2 === 0 ? 500 : 200;
      res.end();
    });

    const o = await measureOnce(compare(), context(), deps);

    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('green 5/10 errors (50%)');
    expect(o.message).toContain('blue 5/10 errors (50%)');
  });

  it("fails when green's p95 latency exceeds blue's by more than the factor", async () => {
    green.respond(delayed(250));

    const o = await measureOnce(compare({ samples: 3 }), context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/green p95 latency \d+ ms is more than 1\.5x blue's \d+ ms/);
  });

  it('does not fail on a latency ratio that is only a few milliseconds (minLatencyIncrease)', async () => {
    blue.respond(delayed(2));
    green.respond(delayed(12));

    const o = await measureOnce(compare({ samples: 5, minLatencyIncrease: '200ms' }), context(), deps);

    expect(o.outcome).toBe('pass');
  });

  it('is an error, never a pass, when blue cannot be measured at all', async () => {
    const gone = await startHttpTarget();
    await gone.close();

    const o = await measureOnce(
      compare({ samples: 3 }),
      { hook: 'BeforeAllowTraffic', prodListenerUrl: gone.url, testListenerUrl: green.url },
      deps,
    );

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/^no baseline: blue answered none of 3 probes \(GET .*connection refused\)/);
  });

  it('is an error when blue passes no probe either: no baseline to compare with', async () => {
    blue.respond((_req, res) => {
      res.statusCode = 500;
      res.end();
    });

    const o = await measureOnce(compare({ samples: 3 }), context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toContain('no baseline: blue passed none of 3 probes');
  });

  it('fails when green hangs, each probe cut at probeTimeout', async () => {
    green.respond(() => {
      // Never answers.
    });
    const started = Date.now();

    const o = await measureOnce(compare({ samples: 3, probeTimeout: '100ms' }), context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('green 3/3 errors (100%)');
    expect(o.message).toContain('no answer within probeTimeout 100 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('applies the http probe fields to both sides', async () => {
    blue.respond((_req, res) => res.end('{"status":"ok"}'));
    green.respond((_req, res) => res.end('{"status":"starting"}'));

    const o = await measureOnce(compare({ samples: 2, expect: { json: { status: 'ok' } } }), context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('JSON status is "starting", expected "ok"');
  });
});

describe('compare: each side stays on its own listener', () => {
  it('fails, and never measures blue as green, when the test listener redirects to the production listener', async () => {
    green.respond((_req, res) => {
      res.writeHead(301, { location: `${blue.url}/health` });
      res.end();
    });

    const o = await measureOnce(compare({ samples: 3, followRedirects: true }), context(), deps);

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('green error rate exceeds blue');
    expect(o.message).toContain(`it leaves the test listener ${green.url} for the production listener ${blue.url}`);
    // Blue answered its own three probes, and none of green's.
    expect(blue.hits).toEqual(['/health', '/health', '/health']);
  });

  it("has no baseline, never a pass, when the production listener redirects blue's probes to the test listener", async () => {
    blue.respond((_req, res) => {
      res.writeHead(302, { location: `${green.url}/health` });
      res.end();
    });

    const o = await measureOnce(compare({ samples: 2, followRedirects: true }), context(), deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(
      /no baseline: blue passed none of 2 probes .*it leaves the production listener .* for the test listener/,
    );
    expect(green.hits).toEqual(['/health', '/health']);
  });
});

describe('compare needs a blue baseline: the production listener is blue only before traffic moves', () => {
  // At these hooks the production listener routes to green (all of it, or a share while it shifts).
  const afterShift = [
    'AfterAllowTraffic',
    'PostTraffic',
    'TerminationWait',
    'PRODUCTION_TRAFFIC_SHIFT',
    'POST_PRODUCTION_TRAFFIC_SHIFT',
  ];
  const beforeShift = [
    'AfterAllowTestTraffic',
    'BeforeAllowTraffic',
    'PreTraffic',
    'ReadyWait',
    'TEST_TRAFFIC_SHIFT',
    'POST_TEST_TRAFFIC_SHIFT',
    'PRE_PRODUCTION_TRAFFIC_SHIFT',
  ];
  /** Before test traffic moves, the test listener (compare's default green) still reaches blue. */
  const beforeTestShift = ['BeforeInstall', 'AfterInstall', 'RECONCILE_SERVICE', 'PRE_SCALE_UP', 'POST_SCALE_UP'];

  it.each(afterShift)('is an error at %s, probing nothing, with the default blue {{prodListenerUrl}}', async (hook) => {
    const o = await measureOnce(compare(), { ...context(), hook }, deps);

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(new RegExp(`^no blue baseline at ${hook}: production traffic already reaches green`));
    expect(blue.hits).toEqual([]);
    expect(green.hits).toEqual([]);
  });

  it.each(beforeTestShift)(
    'is an error at %s, probing nothing: its default green, the test listener, is still blue',
    async (hook) => {
      const o = await measureOnce(compare({ samples: 2 }), { ...context(), hook }, deps);

      expect(o.outcome).toBe('error');
      expect(o.message).toMatch(new RegExp(`\\{\\{testListenerUrl\\}\\} does not reach green at ${hook}`));
      expect(blue.hits).toEqual([]);
      expect(green.hits).toEqual([]);
    },
  );

  it.each(beforeShift)('compares against the production listener at %s', async (hook) => {
    const o = await measureOnce(compare({ samples: 2 }), { ...context(), hook }, deps);

    expect(o.outcome).toBe('pass');
    expect(blue.hits).toHaveLength(2);
  });

  it('is an error at a hook greenlight cannot place (no hook, the Proton guard)', async () => {
    for (const hook of [undefined, 'ProtonPipeline']) {
      const o = await measureOnce(compare(), { ...context(), hook }, deps);

      expect(o.outcome).toBe('error');
      expect(o.message).toContain('cannot tell at this hook whether production traffic reaches only blue');
    }
  });

  it('refuses an explicit blue on the production listener after the shift, by placeholder or by its URL', async () => {
    const byPlaceholder = await measureOnce(
      compare({ blue: '{{prodListenerUrl}}/' }),
      { ...context(), hook: 'AfterAllowTraffic' },
      deps,
    );
    const byUrl = await measureOnce(compare({ blue: blue.url }), { ...context(), hook: 'AfterAllowTraffic' }, deps);

    expect(byPlaceholder.outcome).toBe('error');
    expect(byPlaceholder.message).toMatch(
      /^no blue baseline at AfterAllowTraffic: .*the production listener is not blue/,
    );
    expect(byUrl.outcome).toBe('error');
    expect(byUrl.message).toMatch(/^no blue baseline at AfterAllowTraffic: .*the production listener is not blue/);
    expect(blue.hits).toEqual([]);
  });

  it("refuses after the shift a literal blue on the load balancer's host, though only the test listener was resolved", async () => {
    // The plan uses only {{testListenerUrl}} (green's default), so the production listener is not resolved;
    // blue names the same load balancer on its production port. Refused before any probe is sent.
    const o = await measureOnce(
      compare({ blue: 'https://gl-lb-123.us-east-1.elb.amazonaws.com' }),
      { hook: 'AfterAllowTraffic', testListenerUrl: 'http://gl-lb-123.us-east-1.elb.amazonaws.com:8080' },
      deps,
    );

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(
      /^no blue baseline at AfterAllowTraffic: production traffic already reaches green, so the production listener \(another port of the deployment's load balancer\) is not blue/,
    );
  });

  it('accepts an explicit blue outside the deployment listeners after the shift', async () => {
    const stable = await startHttpTarget();
    try {
      stable.respond((_req, res) => res.end('ok'));
      const o = await measureOnce(
        compare({ blue: stable.url, samples: 2 }),
        { ...context(), hook: 'AfterAllowTraffic' },
        deps,
      );

      expect(o.outcome).toBe('pass');
      expect(stable.hits).toEqual(['/health', '/health']);
    } finally {
      await stable.close();
    }
  });

  it('refuses, at every hook, blue on the test listener or on the same origin as green', async () => {
    const onTest = await measureOnce(
      compare({ blue: '{{testListenerUrl}}', green: blue.url }),
      { ...context(), hook: 'BeforeAllowTraffic' },
      deps,
    );
    const same = await measureOnce(compare({ blue: green.url }), { ...context(), hook: 'BeforeAllowTraffic' }, deps);

    expect(onTest.outcome).toBe('error');
    expect(onTest.message).toContain('blue is the test listener, which carries green');
    expect(same.outcome).toBe('error');
    expect(same.message).toContain('blue and green are one origin');
    expect(green.hits).toEqual([]);
  });
});

describe('compare plan fields', () => {
  const mapped = (hooks: Record<string, string[]>, fields: Record<string, unknown> = {}): string[] => {
    try {
      parsePlan({ version: 1, hooks, checks: { cmp: compare(fields) } });
      return [];
    } catch (error) {
      return [...((error as { issues?: string[] }).issues ?? [String(error)])];
    }
  };

  it.each([
    'AfterAllowTraffic',
    'PostTraffic',
    'TerminationWait',
    'PRODUCTION_TRAFFIC_SHIFT',
    'POST_PRODUCTION_TRAFFIC_SHIFT',
  ])('refuses, at validation, the production listener as blue at %s, where it reaches green', (hook) => {
    expect(mapped({ [hook]: ['cmp'] })).toEqual([
      expect.stringMatching(
        new RegExp(
          `^hooks\\.${hook}\\[0\\]: check "cmp" cannot work here: its blue is the production listener \\(\\{\\{prodListenerUrl\\}\\}, the default\\), but production traffic already reaches green at`,
        ),
      ),
    ]);
  });

  it('refuses, at validation, the test listener as blue at any hook', () => {
    expect(
      mapped({ BeforeAllowTraffic: ['cmp'] }, { blue: '{{testListenerUrl}}', green: 'https://green.example' }),
    ).toEqual([
      expect.stringMatching(
        /^hooks\.BeforeAllowTraffic\[0\]: check "cmp" cannot work here: its blue is \{\{testListenerUrl\}\}/,
      ),
    ]);
  });

  it('accepts the defaults before traffic moves, under *, and an explicit blue after it moves', () => {
    expect(
      mapped({ BeforeAllowTraffic: ['cmp'], AfterAllowTestTraffic: ['cmp'], POST_TEST_TRAFFIC_SHIFT: ['cmp'] }),
    ).toEqual([]);
    expect(mapped({ '*': ['cmp'] })).toEqual([]);
    expect(mapped({ AfterAllowTraffic: ['cmp'] }, { blue: 'https://stable.example.com' })).toEqual([]);
  });

  it('names bad samples, margins, factors and paths', () => {
    expect(
      planProblems(compare({ samples: 0, maxErrorRateIncrease: 2, maxLatencyRatio: 0.5, path: 'health' })),
    ).toEqual([
      'checks.subject.path: must start with /',
      'checks.subject.samples: expected an integer 1-200, got 0',
      'checks.subject.maxErrorRateIncrease: expected a number 0-1, got 2',
      'checks.subject.maxLatencyRatio: expected a number 1-1000, got 0.5',
    ]);
  });

  it('validates the probe fields the way the http check does', () => {
    expect(planProblems(compare({ method: 'FETCH', url: 'http://x' }))).toEqual([
      expect.stringMatching(/^checks\.subject\.url: unknown field/),
      expect.stringMatching(/^checks\.subject\.method: expected one of GET/),
    ]);
  });

  it('names the plan field of a probe header whose placeholder has no value', async () => {
    await expect(
      measureOnce(compare({ headers: { 'x-deployment': '{{deploymentId}}' } }), context(), deps),
    ).rejects.toThrow(/checks\.subject\.headers\.x-deployment: \{\{deploymentId\}\} has no value/);
  });

  it('fails to build, naming the side, when the deployment has no production listener', async () => {
    await expect(measureOnce(compare(), { testListenerUrl: 'http://127.0.0.1:1' }, deps)).rejects.toThrow(
      /checks\.subject\.blue: \{\{prodListenerUrl\}\} has no value for this deployment/,
    );
  });
});

describe('percentile', () => {
  it('is the nearest rank: with 10 samples p95 is the largest, with 20 the 19th', () => {
    const ten = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10];
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);

    expect(percentile(ten, 0.95)).toBe(10);
    expect(percentile(twenty, 0.95)).toBe(19);
    expect(percentile([], 0.95)).toBeUndefined();
  });
});
