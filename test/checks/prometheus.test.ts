import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sigv4Adapter } from '../../lib/aws/sigv4.ts';
import { BodyBudget } from '../../lib/checks/body-budget.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import type { SigV4Port } from '../../lib/checks/prometheus.ts';
import { checkKinds } from '../../lib/checks/registry.ts';
import type { SecretPort } from '../../lib/checks/secrets.ts';
import type { Clock } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { type HttpTarget, json, startHttpTarget } from '../support/http-target.ts';
import { planProblems } from '../support/run-check.ts';

/**
 * A Prometheus HTTP API on 127.0.0.1 answering in the documented shapes
 * (https://prometheus.io/docs/prometheus/latest/querying/api/): the envelope
 * {status, data: {resultType, result}, errorType, error, warnings}, sample values as strings.
 */
let prometheus: HttpTarget;
let seen: { path: string; params: URLSearchParams; headers: IncomingMessage['headers'] }[];
const now = Date.UTC(2026, 10, 29, 19, 0, 0);
const clock: Clock = { now: () => now, sleep: async () => {} };
const token = 'prom-token-8d1f0c2b7e';
const secrets: SecretPort = {
  read: async (source) => {
    if (source.ssm === '/greenlight/prom-token') return token;
    if (source.ssm === '/greenlight/prom-password') return 'pw-3a9c';
    throw new Error('ParameterNotFound');
  },
};

const vector = (...values: [Record<string, string>, string][]) =>
  json(200, {
    status: 'success',
    data: { resultType: 'vector', result: values.map(([metric, v]) => ({ metric, value: [now / 1000, v] })) },
  });

beforeAll(async () => {
  prometheus = await startHttpTarget();
});

afterAll(async () => {
  await prometheus?.close();
});

beforeEach(() => {
  seen = [];
});

/** Answers with `route` and records what each request carried. */
function answer(route: Parameters<HttpTarget['respond']>[0]): void {
  prometheus.respond((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, params: url.searchParams, headers: req.headers });
    route(req, res);
  });
}

async function measure(
  check: Record<string, unknown>,
  options: { context?: Record<string, string>; deps?: Partial<CheckDeps>; allow?: unknown } = {},
) {
  const plan = parsePlan({
    version: 1,
    allow: options.allow ?? { addresses: ['loopback'] },
    secrets: { promToken: { ssm: '/greenlight/prom-token' }, promPassword: { ssm: '/greenlight/prom-password' } },
    hooks: { '*': ['subject'] },
    checks: { subject: { type: 'prometheus', url: prometheus.url, ...check } },
  });
  const [run] = buildRuns(Object.values(plan.checks), options.context ?? {}, {
    clock,
    secrets,
    ...options.deps,
  });
  if (!run) throw new Error('no run');
  return run.measure(AbortSignal.timeout(5_000));
}

const errorRate = {
  query: 'sum(rate(http_requests_total{service="{{service}}",code=~"5.."}[5m]))',
  threshold: 0.05,
};

describe('prometheus instant queries', () => {
  it('passes below the threshold, sending the filled query to /api/v1/query at the clock time', async () => {
    answer(vector([{}, '0.01']));
    const o = await measure(errorRate, { context: { service: 'orders' } });
    expect(o.outcome).toBe('pass');
    expect(o.value).toBe(0.01);
    expect(seen[0]?.path).toBe('/api/v1/query');
    expect(seen[0]?.params.get('query')).toBe('sum(rate(http_requests_total{service="orders",code=~"5.."}[5m]))');
    expect(seen[0]?.params.get('time')).toBe((now / 1000).toFixed(3));
  });

  it('fails above the threshold, naming the worst of several series', async () => {
    answer(vector([{ task: 'a' }, '0.02'], [{ task: 'b' }, '0.3'], [{ task: 'c' }, 'NaN']));
    const o = await measure(errorRate, { context: { service: 'orders' } });
    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(0.3);
    expect(o.message).toContain('worst of 2 series, {task="b"}: value is 0.3; fails when > 0.05');
  });

  it('judges a scalar result, and +Inf as a breach', async () => {
    answer(json(200, { status: 'success', data: { resultType: 'scalar', result: [now / 1000, '+Inf'] } }));
    expect((await measure({ query: 'scalar(vector(1)/0)', threshold: 1 })).outcome).toBe('fail');
  });

  it('is a fail on no data by default, and what noData says when set', async () => {
    answer(vector());
    const o = await measure({ query: 'up{job="none"}', threshold: 1 });
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('no datapoints now (noData: fail)');
    const inconclusive = await measure({ query: 'up{job="none"}', threshold: 1, noData: 'inconclusive' });
    expect(inconclusive.outcome).toBe('inconclusive');
  });

  it('uses the comparison vocabulary of cloudwatch-metric', async () => {
    answer(vector([{}, '0.98']));
    const o = await measure({ query: 'avg(up)', comparison: 'LessThanThreshold', threshold: 0.99 });
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('fails when < 0.99');
  });
});

describe('prometheus range queries', () => {
  it('queries /api/v1/query_range over the window and reduces each series like cloudwatch-metric', async () => {
    answer(
      json(200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { service: 'orders' },
              values: [
                [now / 1000 - 120, '100'],
                [now / 1000 - 60, '300'],
                [now / 1000, '200'],
              ],
            },
          ],
        },
        warnings: ['PromQL info: metric might not be a counter'],
      }),
    );
    const o = await measure({
      query: 'histogram_quantile(0.99, x)',
      window: '5m',
      step: '1m',
      reduce: 'avg',
      threshold: 250,
    });
    expect(o.outcome).toBe('pass');
    expect(o.value).toBe(200);
    expect(o.message).toContain('avg of 3 samples over 5m is 200');
    expect(o.message).toContain('(Prometheus: PromQL info: metric might not be a counter)');
    const p = seen[0]?.params;
    expect(seen[0]?.path).toBe('/api/v1/query_range');
    expect([p?.get('start'), p?.get('end'), p?.get('step')]).toEqual([
      ((now - 300_000) / 1000).toFixed(3),
      (now / 1000).toFixed(3),
      '60s',
    ]);
  });

  it('reduces to the worst value by default (max for GreaterThan)', async () => {
    answer(
      json(200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: {},
              values: [
                [1, '1'],
                [2, '9'],
                [3, '2'],
              ],
            },
          ],
        },
      }),
    );
    const o = await measure({ query: 'x', window: '10m', threshold: 5 });
    expect(o.outcome).toBe('fail');
    expect(o.value).toBe(9);
  });
});

describe('prometheus errors are error measurements naming the provider message', () => {
  it.each([
    [
      'the documented error envelope',
      json(422, { status: 'error', errorType: 'execution', error: 'expanding series: too many samples' }),
      'HTTP 422: execution: expanding series: too many samples',
    ],
    [
      'a bad query',
      json(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
      'bad_data: parse error',
    ],
    [
      'a proxy page that is not JSON',
      (_req: unknown, res: { writeHead: (s: number) => void; end: (b: string) => void }) => {
        res.writeHead(502);
        res.end('<html>Bad Gateway</html>');
      },
      'HTTP 502: not JSON (<html>Bad Gateway</html>)',
    ],
    [
      'an unknown result shape',
      json(200, { status: 'success', data: { resultType: 'string', result: [1, 'x'] } }),
      'unexpected response shape',
    ],
  ] as const)('%s', async (_name, route, message) => {
    answer(route as never);
    const o = await measure({ query: 'up', threshold: 1 });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain(message);
  });

  it('bounds a long provider message and strips its control characters', async () => {
    answer(json(400, { status: 'error', errorType: 'bad_data', error: `line one\nline two ${'x'.repeat(5000)}` }));
    const o = await measure({ query: 'up', threshold: 1 });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('line one line two');
    expect(o.message.length).toBeLessThan(400);
  });

  it('is an error when the response is larger than maxBodyBytes', async () => {
    answer(vector(...Array.from({ length: 200 }, (_, i): [Record<string, string>, string] => [{ i: String(i) }, '1'])));
    const o = await measure({ query: 'up', threshold: 1, maxBodyBytes: 1024 });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('larger than maxBodyBytes');
  });

  it('is an error when the server cannot be reached', async () => {
    const gone = await startHttpTarget();
    const url = gone.url;
    await gone.close();
    const o = await measure({ url, query: 'up', threshold: 1 });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('connection refused');
  });
});

describe('prometheus and the egress allowlist', () => {
  it('refuses a server the plan does not allow, before any request', async () => {
    answer(vector([{}, '0']));
    await expect(
      measure({ query: 'up', threshold: 1 }, { allow: { hosts: ['prometheus.example.com'] } }),
    ).rejects.toThrow(/checks\.subject\.url: refused: host 127\.0\.0\.1 is not in allow\.hosts/);
    await expect(measure({ query: 'up', threshold: 1 }, { allow: {} })).rejects.toThrow(/a loopback address/);
    expect(seen).toEqual([]);
  });
});

describe('prometheus credentials', () => {
  it('sends a bearer token from the plan secrets and keeps it out of the report', async () => {
    answer(json(401, { status: 'error', errorType: 'unauthorized', error: `token ${token} is not valid` }));
    const o = await measure({ query: 'up', threshold: 1, bearerToken: '{{secret:promToken}}' });
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(o.outcome).toBe('error');
    expect(o.message).not.toContain(token);
  });

  it('sends basic auth with the password from the plan secrets, and keeps its encoding out of the report', async () => {
    const encoded = Buffer.from('greenlight:pw-3a9c').toString('base64');
    answer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'unauthorized', error: `bad ${req.headers.authorization}` }),
      );
    });
    const o = await measure({
      query: 'up',
      threshold: 1,
      basicAuth: { username: 'greenlight', password: '{{secret:promPassword}}' },
    });
    expect(seen[0]?.headers.authorization).toBe(`Basic ${encoded}`);
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('bad Basic ***');
    expect(o.message).not.toContain(encoded);
  });

  it('signs with SigV4 for the aps service with the SDK signer, a signature the server can verify', async () => {
    answer(vector([{}, '0']));
    const env = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    try {
      const o = await measure(
        { query: 'sum(up{job="api"})', threshold: 1, sigv4: { region: 'eu-west-1' } },
        { deps: { sigv4: sigv4Adapter() } },
      );
      expect(o.outcome).toBe('pass');
    } finally {
      process.env = env;
    }
    const h = seen[0]?.headers ?? {};
    expect(String(h.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    expect(verifySigV4(seen[0], 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')).toBe(true);
  });

  it('signs for an Amazon Managed Service for Prometheus workspace URL without a sigv4 field', async () => {
    answer(vector([{}, '0']));
    const scopes: unknown[] = [];
    const fake: SigV4Port = {
      sign: async (request, scope) => {
        scopes.push(scope);
        return { ...request.headers, authorization: 'AWS4-HMAC-SHA256 fake' };
      },
    };
    const host = 'aps-workspaces.us-west-2.amazonaws.com';
    const o = await measure(
      { url: `http://${host}:${prometheus.port}/workspaces/ws-1234`, query: 'up', threshold: 1 },
      { deps: { sigv4: fake, pinned: new Map([[host, '127.0.0.1']]) }, allow: { hosts: [host] } },
    );
    expect(o.outcome).toBe('pass');
    expect(scopes).toEqual([{ region: 'us-west-2', service: 'aps' }]);
    expect(seen[0]?.path).toBe('/workspaces/ws-1234/api/v1/query');
    expect(seen[0]?.headers.authorization).toBe('AWS4-HMAC-SHA256 fake');
  });

  it('says which permission and template parameter a SigV4 query AWS refuses (403) needs', async () => {
    answer(
      json(403, {
        message: 'User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: aps:QueryMetrics',
      }),
    );
    const fake: SigV4Port = {
      sign: async (request) => ({ ...request.headers, authorization: 'AWS4-HMAC-SHA256 fake' }),
    };
    const host = 'aps-workspaces.us-west-2.amazonaws.com';
    const o = await measure(
      { url: `http://${host}:${prometheus.port}/workspaces/ws-1234`, query: 'up', threshold: 1 },
      { deps: { sigv4: fake, pinned: new Map([[host, '127.0.0.1']]) }, allow: { hosts: [host] } },
    );
    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(
      /HTTP 403: .*; the function's role needs aps:QueryMetrics on this workspace \(template parameter PrometheusWorkspaces\)$/,
    );
  });

  it('refuses a bearer token for an AMP workspace, which only takes SigV4', async () => {
    const o = await measure({
      url: 'https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1',
      query: 'up',
      threshold: 1,
      bearerToken: '{{secret:promToken}}',
    });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('checks.subject.url: Amazon Managed Service for Prometheus takes SigV4');
  });

  it('fails to build, not silently unsigned, when the function wires no signer', async () => {
    await expect(measure({ query: 'up', threshold: 1, sigv4: { region: 'eu-west-1' } })).rejects.toThrow(
      /needs the SigV4 signer/,
    );
  });
});

describe('prometheus query placeholders', () => {
  it('escapes a value inside a string literal, and regex characters inside a regex matcher', async () => {
    answer(vector([{}, '0']));
    await measure(
      { query: `up{service="{{service}}", cluster=~'{{cluster}}.*'}`, threshold: 1 },
      { context: { service: 'a"b\\c', cluster: "prod.eu'1" } },
    );
    expect(seen[0]?.params.get('query')).toBe(`up{service="a\\"b\\\\c", cluster=~'prod\\\\.eu\\'1.*'}`);
  });

  it('puts a plain number outside a string as it is, and refuses anything else there', async () => {
    answer(vector([{}, '0']));
    await measure({ query: 'up * {{testTrafficWeight}}', threshold: 1 }, { context: { testTrafficWeight: '20' } });
    expect(seen[0]?.params.get('query')).toBe('up * 20');
    await expect(
      measure({ query: 'up * {{service}}', threshold: 1 }, { context: { service: 'x) or vector(1' } }),
    ).rejects.toThrow(/checks\.subject\.query: \{\{service\}\} is outside a string literal/);
  });

  it('never reads a deployment value as a placeholder: an application named {{secret:...}} stays literal text', async () => {
    answer(vector([{}, '0']));
    await measure(
      { query: `up{app="{{applicationName}}"} or up{app=~'{{applicationName}}'}`, threshold: 1 },
      { context: { applicationName: '{{secret:promToken}}' } },
    );
    const sent = seen[0]?.params.get('query') ?? '';
    expect(sent).toBe(
      String.raw`up{app="\x7b\x7bsecret:promToken\x7d\x7d"} or up{app=~'\\\x7b\\\x7bsecret:promToken\\\x7d\\\x7d'}`,
    );
    expect(sent).not.toContain(token);
  });

  it('refuses a deployment value with braces in a raw string, and a placeholder that is not its own name', async () => {
    await expect(
      measure({ query: 'up{app=`{{applicationName}}`}', threshold: 1 }, { context: { applicationName: '{{x}}' } }),
    ).rejects.toThrow(/cannot stand in a `raw` string/);
    await expect(measure({ query: 'up{app="{{toString}}"}', threshold: 1 })).rejects.toThrow(/toString/);
  });

  it('names a placeholder without a value in this deployment', async () => {
    await expect(measure({ query: 'up{service="{{service}}"}', threshold: 1 })).rejects.toThrow(
      /checks\.subject\.query: \{\{service\}\} has no value/,
    );
  });
});

describe('prometheus plan fields', () => {
  const base = { type: 'prometheus', url: 'https://prometheus.example.com', query: 'up', threshold: 1 };

  it('accepts instant and range queries, each auth, and an AMP workspace', () => {
    expect(planProblems(base)).toEqual([]);
    expect(planProblems({ ...base, window: '10m', step: '30s', reduce: 'avg' })).toEqual([]);
    expect(
      planProblems({
        ...base,
        url: 'https://aps-workspaces.{{region}}.amazonaws.com/workspaces/ws-1',
        sigv4: { region: 'us-east-1', service: 'aps' },
      }),
    ).toEqual([]);
  });

  it('names unknown fields, bad bounds, plaintext credentials and conflicting auths', () => {
    const problems = planProblems({
      ...base,
      quey: 'typo',
      step: '1m',
      bearerToken: 'abc123',
      basicAuth: { username: 'u', password: 'hunter2' },
      sigv4: { region: 'moon', service: 'es' },
      comparison: 'Above',
    }).join('\n');
    expect(problems).toMatch(/checks\.subject\.quey: unknown field/);
    expect(problems).toMatch(/checks\.subject\.step: needs window/);
    expect(problems).toMatch(/checks\.subject\.bearerToken: expected a \{\{secret:name\}\} reference/);
    expect(problems).toMatch(/checks\.subject\.basicAuth\.password: expected a \{\{secret:name\}\} reference/);
    expect(problems).toMatch(/checks\.subject\.sigv4\.region: expected an AWS Region/);
    expect(problems).toMatch(/checks\.subject\.sigv4\.service: expected one of aps/);
    expect(problems).toMatch(/checks\.subject: give one of bearerToken, basicAuth and sigv4/);
    expect(problems).toMatch(/checks\.subject\.comparison: expected one of GreaterThanThreshold/);
  });

  it('refuses a step longer than the window, and too many points', () => {
    expect(planProblems({ ...base, window: '1m', step: '5m' }).join('\n')).toMatch(
      /step: must be more than 0 and at most window/,
    );
    expect(planProblems({ ...base, window: '7d', step: '1s' }).join('\n')).toMatch(/window: expected a duration/);
    expect(planProblems({ ...base, window: '24h', step: '1s' }).join('\n')).toMatch(/at most 11000 points/);
  });
});

/** An independent SigV4 check (AWS SigV4 reference: canonical request, string to sign, derived key). */
function verifySigV4(
  request: { path: string; params: URLSearchParams; headers: IncomingMessage['headers'] } | undefined,
  secret: string,
): boolean {
  if (!request) return false;
  const auth =
    /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
      String(request.headers.authorization),
    );
  if (!auth) return false;
  const [, , date, region, service, signedHeaders, signature] = auth as unknown as string[];
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...request.params.entries()]
    .map(([k, v]) => [enc(k), enc(v)])
    .sort(([a, x], [b, y]) =>
      a === b ? (x as string).localeCompare(y as string) : (a as string) < (b as string) ? -1 : 1,
    )
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = (signedHeaders as string).split(';');
  const headers = names.map((n) => `${n}:${String(request.headers[n]).trim()}\n`).join('');
  const canonical = [
    'GET',
    request.path,
    query,
    headers,
    signedHeaders,
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const amzDate = String(request.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secret}`, date as string), region as string), service as string),
    'aws4_request',
  );
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

describe('prometheus and the invocation body budget (issue 11, item 10)', () => {
  it('is an error, never a pass, when the answer does not fit what is left of the shared budget', async () => {
    answer(vector([{}, '0']));
    const o = await measure({ query: 'up', threshold: 1 }, { deps: { bodyBudget: new BodyBudget(16) } });
    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/body budget/);
  });

  it('holds its whole maxBodyBytes for plan validation against the function memory', () => {
    expect(checkKinds.prometheus.bufferedBodyBytes?.({ maxBodyBytes: 4096 } as never)).toBe(4096);
    expect(checkKinds.datadog.bufferedBodyBytes?.({ maxBodyBytes: 2048 } as never)).toBe(2048);
  });
});
