import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { Lookup } from '../../lib/checks/resolve.ts';
import type { SecretPort } from '../../lib/checks/secrets.ts';
import type { Clock } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { type HttpTarget, json, startHttpTarget } from '../support/http-target.ts';
import { planProblems } from '../support/run-check.ts';

/**
 * Datadog's v1 metrics query API on 127.0.0.1, in its documented shapes
 * (https://docs.datadoghq.com/api/latest/metrics/#query-timeseries-points): 200 with
 * {status: "ok", res_type: "time_series", series: [{metric, scope, pointlist: [[ms, value | null]]}]},
 * errors as {"errors": ["..."]} with 400 / 403.
 */
let datadog: HttpTarget;
let seen: { path: string; params: URLSearchParams; headers: IncomingMessage['headers'] }[];
const now = Date.UTC(2026, 10, 29, 19, 0, 0);
const clock: Clock = { now: () => now, sleep: async () => {} };
const apiKey = 'dd-api-0f3b9e11c2';
const appKey = 'dd-app-77aa01c5d9';
const secrets: SecretPort = {
  read: async (source) => (source.ssm === '/greenlight/dd-api-key' ? apiKey : appKey),
};

const ok = (...series: { scope: string; points: [number, number | null][] }[]) =>
  json(200, {
    status: 'ok',
    res_type: 'time_series',
    resp_version: 1,
    query: 'q',
    from_date: now - 300_000,
    to_date: now,
    message: '',
    group_by: [],
    series: series.map((s) => ({
      metric: 'trace.http.request.errors',
      display_name: 'trace.http.request.errors',
      scope: s.scope,
      expression: `sum:trace.http.request.errors{${s.scope}}`,
      pointlist: s.points,
      length: s.points.length,
      interval: 60,
      aggr: 'sum',
    })),
  });

beforeAll(async () => {
  datadog = await startHttpTarget();
});

afterAll(async () => {
  await datadog?.close();
});

beforeEach(() => {
  seen = [];
});

function answer(route: Parameters<HttpTarget['respond']>[0]): void {
  datadog.respond((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, params: url.searchParams, headers: req.headers });
    route(req, res);
  });
}

const check = (fields: Record<string, unknown> = {}) => ({
  type: 'datadog',
  url: datadog.url,
  query: 'sum:trace.http.request.errors{service:{{service}},env:prod}.as_count()',
  apiKey: '{{secret:ddApiKey}}',
  applicationKey: '{{secret:ddAppKey}}',
  threshold: 5,
  ...fields,
});

async function measure(fields: Record<string, unknown> = {}, context: Record<string, string> = { service: 'orders' }) {
  const plan = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    secrets: { ddApiKey: { ssm: '/greenlight/dd-api-key' }, ddAppKey: { ssm: '/greenlight/dd-app-key' } },
    hooks: { '*': ['subject'] },
    checks: { subject: check(fields) },
  });
  const [run] = buildRuns(Object.values(plan.checks), context, { clock, secrets });
  if (!run) throw new Error('no run');
  return run.measure(AbortSignal.timeout(5_000));
}

describe('datadog metrics query', () => {
  it('sends the filled query over the window with both keys, and passes under the threshold', async () => {
    answer(
      ok({
        scope: 'env:prod,service:orders',
        points: [
          [now - 120_000, 1],
          [now - 60_000, null],
          [now, 3],
        ],
      }),
    );
    const o = await measure();
    expect(o.outcome).toBe('pass');
    expect(o.value).toBe(3);
    expect(o.message).toContain('max of 2 points over 5m is 3; fails when > 5');
    const r = seen[0];
    expect(r?.path).toBe('/api/v1/query');
    expect(r?.params.get('query')).toBe('sum:trace.http.request.errors{service:orders,env:prod}.as_count()');
    expect([r?.params.get('from'), r?.params.get('to')]).toEqual([String((now - 300_000) / 1000), String(now / 1000)]);
    expect([r?.headers['dd-api-key'], r?.headers['dd-application-key']]).toEqual([apiKey, appKey]);
  });

  it('fails above the threshold on the worst series', async () => {
    answer(
      ok({ scope: 'service:orders,az:a', points: [[now, 1]] }, { scope: 'service:orders,az:b', points: [[now, 9]] }),
    );
    const o = await measure();
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('worst of 2 series, service:orders,az:b: max of 1 points over 5m is 9');
  });

  it('reduces as the plan says (avg) with the comparison vocabulary of cloudwatch-metric', async () => {
    answer(
      ok({
        scope: 's',
        points: [
          [1, 0.99],
          [2, 0.97],
          [3, 0.95],
        ],
      }),
    );
    const o = await measure({ comparison: 'LessThanThreshold', threshold: 0.98, reduce: 'avg' });
    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(0.97);
  });

  it('is a fail on no data by default (no series, or only null points), or what noData says', async () => {
    answer(ok());
    expect((await measure()).outcome).toBe('fail');
    answer(ok({ scope: 's', points: [[1, null]] }));
    const o = await measure({ noData: 'pass' });
    expect(o.outcome).toBe('pass');
    expect(o.message).toContain('no datapoints in the last 5m (noData: pass)');
  });

  it.each([
    ['a 403 with the documented errors list', json(403, { errors: ['Forbidden'] }), 'HTTP 403: Forbidden'],
    [
      'a 400 naming the query problem',
      json(400, { errors: ['Error parsing query: unable to parse sum:x{: Rule "scope" didn\'t match'] }),
      'HTTP 400: Error parsing query',
    ],
    [
      'a 200 with status error',
      json(200, { status: 'error', error: 'query timed out', series: [] }),
      'HTTP 200: query timed out',
    ],
    ['a body without series', json(200, { status: 'ok' }), 'unexpected response shape (no series)'],
  ] as const)('is an error naming the provider message on %s', async (_name, route, message) => {
    answer(route);
    const o = await measure();
    expect(o.outcome).toBe('error');
    expect(o.message).toContain(message);
  });

  it('keeps the keys out of the report even when Datadog echoes them', async () => {
    answer(json(403, { errors: [`invalid api key ${apiKey} or app key ${appKey}`] }));
    const o = await measure();
    expect(o.outcome).toBe('error');
    expect(o.message).not.toContain(apiKey);
    expect(o.message).not.toContain(appKey);
  });

  it('refuses a tag value that could change the query', async () => {
    await expect(measure({}, { service: 'orders} OR env:*' })).rejects.toThrow(
      /checks\.subject\.query: the value of \{\{service\}\} has characters a Datadog tag cannot hold/,
    );
  });

  it('is an error when the response is larger than maxBodyBytes', async () => {
    answer(ok({ scope: 's', points: Array.from({ length: 500 }, (_, i): [number, number] => [i, i]) }));
    const o = await measure({ maxBodyBytes: 2048 });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('larger than maxBodyBytes');
  });
});

describe('datadog and the egress allowlist', () => {
  it('refuses a site whose name resolves to the metadata address, never sending the keys', async () => {
    const plan = parsePlan({
      version: 1,
      secrets: { ddApiKey: { ssm: '/greenlight/dd-api-key' }, ddAppKey: { ssm: '/greenlight/dd-app-key' } },
      hooks: { '*': ['subject'] },
      checks: { subject: { ...check(), url: undefined, site: 'datadoghq.eu' } },
    });
    const asked: string[] = [];
    const lookup: Lookup = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(null, [{ address: '169.254.169.254', family: 4 }]);
    };
    const [run] = buildRuns(Object.values(plan.checks), { service: 'orders' }, { clock, secrets, lookup });
    const o = await run?.measure(AbortSignal.timeout(5_000));
    expect(asked).toEqual(['api.datadoghq.eu']);
    expect(o?.outcome).toBe('error');
    expect(o?.message).toContain('refused: api.datadoghq.eu resolves to 169.254.169.254, a metadata address');
  });

  it('refuses a url the plan does not allow, before any request', async () => {
    answer(ok());
    const plan = parsePlan({
      version: 1,
      allow: { hosts: ['api.datadoghq.com'], addresses: ['loopback'] },
      secrets: { ddApiKey: { ssm: '/greenlight/dd-api-key' }, ddAppKey: { ssm: '/greenlight/dd-app-key' } },
      hooks: { '*': ['subject'] },
      checks: { subject: check() },
    });
    // A check with secrets is made on its first measurement, so the refusal is that measurement's error.
    const [run] = buildRuns(Object.values(plan.checks), { service: 'orders' }, { clock, secrets });
    const o = await run?.measure(AbortSignal.timeout(5_000));
    expect(o?.outcome).toBe('error');
    expect(o?.message).toMatch(/checks\.subject\.url: refused: host 127\.0\.0\.1 is not in allow\.hosts/);
    expect(seen).toEqual([]);
  });
});

describe('datadog plan fields', () => {
  const base = {
    type: 'datadog',
    query: 'avg:system.cpu.user{*}',
    apiKey: '{{secret:k}}',
    applicationKey: '{{secret:a}}',
    threshold: 90,
  };
  const withSecrets = (c: Record<string, unknown>) => {
    try {
      const plan = parsePlan({
        version: 1,
        secrets: { k: { ssm: '/k' }, a: { ssm: '/a' } },
        hooks: { '*': ['subject'] },
        checks: { subject: c },
      });
      return { plan, problems: [] as string[] };
    } catch (error) {
      return { plan: undefined, problems: [...((error as { issues?: string[] }).issues ?? [String(error)])] };
    }
  };

  it('maps the site to its API host: datadoghq.com by default, datadoghq.eu, us3, app. dropped', () => {
    const endpoint = (site?: string) =>
      (withSecrets(site === undefined ? base : { ...base, site }).plan?.checks.subject?.spec as { endpoint?: string })
        ?.endpoint;
    expect(endpoint()).toBe('https://api.datadoghq.com');
    expect(endpoint('datadoghq.eu')).toBe('https://api.datadoghq.eu');
    expect(endpoint('us3.datadoghq.com')).toBe('https://api.us3.datadoghq.com');
    expect(endpoint('app.datadoghq.com')).toBe('https://api.datadoghq.com');
  });

  it('names unknown fields, unknown sites, plaintext keys and site with url', () => {
    const problems = planProblems({
      ...base,
      site: 'evil.example.com',
      url: 'http://127.0.0.1:1',
      apiKey: 'abcd1234',
      windw: '5m',
    }).join('\n');
    expect(problems).toMatch(/checks\.subject\.windw: unknown field/);
    expect(problems).toMatch(/checks\.subject: give site or url, not both/);
    expect(problems).toMatch(/checks\.subject\.apiKey: expected a \{\{secret:name\}\} reference/);
    expect(planProblems({ ...base, site: 'evil.example.com' }).join('\n')).toMatch(
      /checks\.subject\.site: expected a Datadog site/,
    );
  });
});
