import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { isSensitiveHeader, Redactor, redacted } from '../../lib/checks/redact.ts';
import type { SecretPort, SecretSource } from '../../lib/checks/secrets.ts';
import { analyze } from '../../lib/core/analyze.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';

const token = 'tok-5b1e7c2f9a04d3e8';

/** An SSM stand-in: values by parameter name, a record of reads, and faults on demand. */
function fakeSecrets(values: Record<string, string>): SecretPort & { reads: string[]; failNext: number } {
  const port = {
    reads: [] as string[],
    failNext: 0,
    async read(source: SecretSource) {
      port.reads.push(source.ssm);
      if (port.failNext > 0) {
        port.failNext--;
        throw Object.assign(new Error('User is not authorized to perform: ssm:GetParameter'), {
          name: 'AccessDeniedException',
        });
      }
      const value = values[source.ssm];
      if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
      return value;
    },
  };
  return port;
}

function issues(act: () => unknown): readonly string[] {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues;
  }
  throw new Error('expected a PlanError');
}

describe('Redactor', () => {
  it('scrubs a value as it is, JSON-escaped and URL-encoded', () => {
    const r = new Redactor().add('p@ss"w/rd');
    expect(r.scrub('raw p@ss"w/rd, json "p@ss\\"w/rd", url p%40ss%22w%2Frd')).toBe('raw ***, json "***", url ***');
  });

  it('scrubs the first characters of a value where an excerpt was cut (…)', () => {
    const r = new Redactor().add(token);
    expect(r.scrub(`body is not JSON (starts "Bearer ${token.slice(0, 9)}…")`)).toBe(
      'body is not JSON (starts "Bearer ***…")',
    );
  });

  const tricky = 'pa ss;word/ü"<&>';
  const path = new URL(`http://h/${tricky}`).pathname.slice(1);
  const search = Object.assign(new URL('http://h/'), { search: tricky }).search.slice(1);
  it.each<[string, string]>([
    ['as it is', tricky],
    ['encodeURIComponent', encodeURIComponent(tricky)],
    ['encodeURI', encodeURI(tricky)],
    ['a URL path, as new URL() writes it', path],
    ['a URL query, as new URL() writes it', search],
    ['a URL user name or password', Object.assign(new URL('http://h/'), { password: tricky }).password],
    ['form encoding (+ for a space)', new URLSearchParams({ v: tricky }).toString().slice(2)],
    ['lower-case percent-encoding', encodeURIComponent(tricky).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ['a JSON string', JSON.stringify(tricky).slice(1, -1)],
    ['a JSON string of its URL path', JSON.stringify(path).slice(1, -1)],
    ['JSON with \\u escapes', 'pa ss;word/\\u00fc\\"<&>'],
    ['HTML entities', 'pa ss;word/ü&quot;&lt;&amp;&gt;'],
    ['base64 of Basic credentials (user:value)', Buffer.from(`user:${tricky}`).toString('base64')],
    ['base64 after one byte', Buffer.from(`:${tricky}`).toString('base64')],
    ['base64 at the start', Buffer.from(`${tricky}`).toString('base64')],
    ['base64url', Buffer.from(`ab${tricky}`).toString('base64url')],
  ])('scrubs a value written %s', (_how, form) => {
    const out = new Redactor().add(tricky).scrub(`before ${form} after`);

    expect(out).toMatch(/^before \S*\*\*\*\S* after$/);
    expect(out).not.toContain('ss;wo');
    expect(out).not.toContain('ss%3Bwo');
    expect(out).not.toContain('ss%3bwo');
  });

  it('scrubs the part of a value a URL path keeps when the value holds ? or #', () => {
    const r = new Redactor().add('tok3n-part?rest');

    expect(r.scrub('GET http://h/tok3n-part: status 503')).toBe('GET http://h/***: status 503');
  });

  it('scrubs the first characters of an encoded value where an excerpt was cut', () => {
    const r = new Redactor().add(tricky);

    expect(r.scrub(`starts "${path.slice(0, 12)}…"`)).toBe('starts "***…"');
  });

  it('scrubs any value of 4 characters or more in every encoding it takes on its way out (property, fixed seed)', () => {
    const encoders: [string, (v: string) => string][] = [
      ['as it is', (v) => v],
      ['encodeURIComponent', encodeURIComponent],
      ['encodeURI', encodeURI],
      ['a URL path', (v) => Object.assign(new URL('http://h/'), { pathname: `/${v}` }).pathname.slice(1)],
      ['a URL query', (v) => Object.assign(new URL('http://h/'), { search: v }).search.slice(1)],
      ['a URL fragment', (v) => Object.assign(new URL('http://h/'), { hash: v }).hash.slice(1)],
      ['form encoding', (v) => new URLSearchParams({ v }).toString().slice(2)],
      ['JSON', (v) => JSON.stringify(v).slice(1, -1)],
      ['JSON of form encoding', (v) => JSON.stringify(new URLSearchParams({ v }).toString().slice(2)).slice(1, -1)],
    ];
    const printable = fc.string({ unit: 'grapheme', minLength: 4, maxLength: 24 }).filter((v) => !v.includes('|'));
    fc.assert(
      fc.property(printable, fc.integer({ min: 0, max: 2 }), (value, shift) => {
        const r = new Redactor().add(value);
        for (const [, encode] of encoders) {
          let form: string;
          try {
            form = encode(value);
          } catch {
            continue; // a lone surrogate: no such form can be sent either
          }
          expect(r.scrub(`|${form}|`)).toBe(`|${redacted}|`);
        }
        const b64 = Buffer.concat([Buffer.alloc(shift, 0x41), Buffer.from(value)]).toString('base64');
        expect(r.scrub(`|${b64}|`)).toMatch(/^\|[A-Za-z0-9+/]{0,3}\*\*\*[A-Za-z0-9+/=]{0,3}\|$/);
      }),
      { seed: 20261129, numRuns: 300 },
    );
  });

  it('leaves values shorter than 4 characters alone, rather than garble every message', () => {
    expect(new Redactor().add('ab').scrub('about a cab')).toBe('about a cab');
  });

  it('takes credential headers by name: the whole value and its token parts, not the scheme', () => {
    const r = new Redactor().addHeaders({
      Authorization: `Bearer ${token}`,
      Cookie: 'theme=dark; session=c00k13-v4lu3',
      'X-Api-Key': 'k3y-v4lu3',
      Accept: 'application/json',
    });
    expect(r.scrub(`Bearer ${token} c00k13-v4lu3 k3y-v4lu3 application/json`)).toBe('*** *** *** application/json');
  });

  it.each([
    ['Authorization', true],
    ['proxy-authorization', true],
    ['Cookie', true],
    ['X-Api-Key', true],
    ['x-auth-token', true],
    ['X-Amz-Security-Token', true],
    ['X-Client-Secret', true],
    // Issue 11: every header named like a key, however the key is spelled.
    ['Ocp-Apim-Subscription-Key', true],
    ['X-Functions-Key', true],
    ['X-Access-Key', true],
    ['X-Client-Key', true],
    ['X-Key', true],
    ['Private-Key', true],
    ['Key', true],
    ['x_api_key', true],
    ['apikey', true],
    ['ApiKey', true],
    ['x-goog-api-key', true],
    ['DD-API-KEY', true],
    ['X-Vault-Token', true],
    ['PRIVATE-TOKEN', true],
    ['X-Amz-Security-Token', true],
    ['X-Hub-Signature-256', true],
    ['X-Sig', true],
    ['X-Password', true],
    ['X-Pwd', true],
    ['X-Passphrase', true],
    ['X-Pin', true],
    ['X-OTP', true],
    ['X-JWT-Assertion', true],
    ['X-Session-Id', true],
    ['sessionid', true],
    ['X-XSRF-TOKEN', true],
    ['X-CSRF', true],
    ['Cf-Access-Client-Secret', true],
    ['X-Credentials', true],
    ['Accept', false],
    ['x-target', false],
    ['Content-Type', false],
    ['Keep-Alive', false],
    ['X-Request-Id', false],
    ['User-Agent', false],
    ['If-None-Match', false],
  ])('isSensitiveHeader(%s) is %s', (name, expected) => {
    expect(isSensitiveHeader(name)).toBe(expected);
  });
});

describe('the plan secrets block', () => {
  const check = {
    type: 'http',
    url: 'https://api.example.com/',
    headers: { Authorization: 'Bearer {{secret:apiToken}}' },
  };

  it('holds references only, and each check carries the ones it uses', () => {
    const plan = parsePlan({
      version: 1,
      secrets: { apiToken: { ssm: '/greenlight/api-token' }, unused: { ssm: '/greenlight/other' } },
      hooks: { '*': ['a', 'b'] },
      checks: { a: check, b: { type: 'http', url: 'https://api.example.com/' } },
    });
    expect(plan.checks.a?.secrets).toEqual({ apiToken: { ssm: '/greenlight/api-token' } });
    expect(plan.checks.b?.secrets).toBeUndefined();
  });

  it('names a secret the plan does not declare', () => {
    expect(issues(() => parsePlan({ version: 1, hooks: { '*': ['a'] }, checks: { a: check } }))).toEqual([
      "checks.a.headers.Authorization: unknown secret {{secret:apiToken}} (the plan's secrets: none)",
    ]);
  });

  it('names bad secret names and sources', () => {
    expect(
      issues(() =>
        parsePlan({
          version: 1,
          secrets: {
            '9lives': { ssm: '/x' },
            noSource: {},
            badName: { ssm: 'has space' },
            other: { secretsManager: 'arn' },
          },
          hooks: { '*': [] },
          checks: {},
        }),
      ),
    ).toEqual([
      'secrets.9lives: secret names start with a letter and use letters, digits, "_" and "-" (at most 64)',
      'secrets.noSource.ssm: expected a string, got nothing',
      'secrets.badName.ssm: expected an SSM parameter name such as /greenlight/api-token, or its ARN',
      'secrets.other.secretsManager: unknown field (expected one of: ssm)',
      'secrets.other.ssm: expected a string, got nothing',
    ]);
  });
});

describe('checks that use secrets (real server on loopback)', () => {
  let target: HttpTarget;
  let seen: string[];

  beforeAll(async () => {
    target = await startHttpTarget();
  });

  afterAll(async () => {
    await target.close();
  });

  beforeEach(() => {
    seen = [];
  });

  const plan = (expect: Record<string, unknown> = {}, count = 1) =>
    parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      secrets: { apiToken: { ssm: '/greenlight/api-token' } },
      hooks: { '*': ['api'] },
      checks: {
        api: {
          type: 'http',
          url: `${target.url}/me`,
          headers: { Authorization: 'Bearer {{secret:apiToken}}', 'X-Request-Token': '{{secret:apiToken}}' },
          expect,
          count,
          interval: '10ms',
        },
      },
    });

  const deps = (secrets: SecretPort): CheckDeps => ({ clock: systemClock, secrets });

  /** A server that answers with what it was sent: the worst case for a leak. */
  const echo = (status: number) =>
    target.respond((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(status, { 'content-type': 'text/plain', 'x-echo': String(req.headers.authorization) });
      res.end(`you sent ${req.headers.authorization} and ${req.headers['x-request-token']}`);
    });

  it('sends the value read from SSM, and keeps it out of every message even when the server echoes it', async () => {
    echo(200);
    const port = fakeSecrets({ '/greenlight/api-token': token });
    const checks = Object.values(plan({ json: { ok: true }, headers: { 'x-echo': 'nope' } }).checks);
    const [run] = buildRuns(checks, {}, deps(port));

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(seen).toEqual([`Bearer ${token}`]);
    expect(o?.outcome).toBe('fail');
    expect(o?.message).toContain('***');
    expect(o?.message).not.toContain(token);
    expect(o?.message).not.toContain(token.slice(0, 6));
  });

  it.each([
    ['a status failure', 500, {}],
    ['a body failure', 200, { bodyContains: 'welcome' }],
    ['a JSON failure', 200, { json: { ok: true } }],
    ['a body regex failure', 200, { bodyMatches: '^welcome' }],
  ])('keeps the value out of the verdict on %s', async (_name, status, expectation) => {
    echo(status);
    const port = fakeSecrets({ '/greenlight/api-token': token });
    const runs = buildRuns(Object.values(plan(expectation).checks), {}, deps(port));

    const analysis = await analyze({ checks: runs, clock: systemClock, signal: AbortSignal.timeout(5_000) });

    expect(analysis.kind).toBe('verdict');
    expect(JSON.stringify(analysis)).not.toContain(token);
    expect(JSON.stringify(analysis)).not.toContain(token.slice(0, 6));
  });

  it('reads each secret once per invocation, not once per measurement', async () => {
    echo(200);
    const port = fakeSecrets({ '/greenlight/api-token': token });
    const runs = buildRuns(Object.values(plan({}, 3).checks), {}, deps(port));

    const analysis = await analyze({ checks: runs, clock: systemClock, signal: AbortSignal.timeout(5_000) });

    expect(analysis.kind === 'verdict' && analysis.verdict.status).toBe('pass');
    expect(port.reads).toEqual(['/greenlight/api-token']);
    expect(seen).toHaveLength(3);
  });

  it('is an error, never a pass, when the secret cannot be read, and tries again at the next measurement', async () => {
    echo(200);
    const port = fakeSecrets({ '/greenlight/api-token': token });
    port.failNext = 1;
    const [run] = buildRuns(Object.values(plan().checks), {}, deps(port));

    const first = await run?.measure(AbortSignal.timeout(5_000));
    const second = await run?.measure(AbortSignal.timeout(5_000));

    expect(first).toEqual({
      outcome: 'error',
      message:
        "cannot read secret apiToken (SSM /greenlight/api-token): AccessDeniedException: User is not authorized to perform: ssm:GetParameter (greenlight's role may read only the parameters the stack's SecretParameters parameter names: allow it there)",
    });
    expect(seen).toEqual([`Bearer ${token}`]);
    expect(second?.outcome).toBe('pass');
  });

  it('is an error when the function wires no secret reader', async () => {
    const [run] = buildRuns(Object.values(plan().checks), {}, { clock: systemClock });

    expect(await run?.measure(AbortSignal.timeout(5_000))).toMatchObject({
      outcome: 'error',
      message: expect.stringMatching(/secrets need the SSM port/),
    });
  });

  it('scrubs credential headers written in the plan itself from what the server echoes', async () => {
    const checks = Object.values(
      parsePlan({
        version: 1,
        allow: { addresses: ['loopback'] },
        hooks: { '*': ['api'] },
        checks: {
          api: {
            type: 'http',
            url: `${target.url}/me`,
            headers: { authorization: 'Basic dXNlcjpodW50ZXIy' },
            expect: { json: { user: 'me' } },
          },
        },
      }).checks,
    );
    target.respond((req, res) => res.end(String(req.headers.authorization)));
    const [run] = buildRuns(checks, {}, { clock: systemClock });

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(o?.outcome).toBe('fail');
    expect(JSON.stringify(o)).not.toContain('dXNlcjpodW50ZXIy');
  });
});

describe('credential headers named like a key (issue 11, real servers on two loopback ports)', () => {
  let green: HttpTarget;
  let elsewhere: HttpTarget;

  beforeAll(async () => {
    green = await startHttpTarget();
    elsewhere = await startHttpTarget();
  });

  afterAll(async () => {
    await green.close();
    await elsewhere.close();
  });

  /** One value per header, each long enough to be scrubbed and unique enough to be found. */
  const keyHeaders: Record<string, string> = {
    'Ocp-Apim-Subscription-Key': 'apim-3c9f1e07b2d4',
    'X-Functions-Key': 'func-8a2d6b40e1c7',
    'X-Access-Key': 'acc-51f0c3e9d7a2',
    'X-Client-Key': 'cli-e4b7a0296f1d',
    'X-Key': 'xk-0d93c5b8e2f6',
    'Private-Key': 'pk-7e1a4c9b03d5',
    x_api_key: 'und-26c8f1a0e9b3',
  };

  const run = (headers: Record<string, string>, expectation: Record<string, unknown> = {}) =>
    buildRuns(
      Object.values(
        parsePlan({
          version: 1,
          allow: { addresses: ['loopback'], origins: [elsewhere.url] },
          hooks: { '*': ['api'] },
          checks: {
            api: { type: 'http', url: `${green.url}/start`, headers, followRedirects: true, expect: expectation },
          },
        }).checks,
      ),
      {},
      { clock: systemClock },
    );

  it('forwards none of them on a redirect to another origin, and keeps the other headers', async () => {
    const arrived: Record<string, string | string[] | undefined>[] = [];
    green.respond((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/landed` });
      res.end();
    });
    elsewhere.respond((req, res) => {
      arrived.push(req.headers);
      res.end('ok');
    });

    const analysis = await analyze({
      checks: run({ ...keyHeaders, 'X-Trace': 'trace-1' }),
      clock: systemClock,
      signal: AbortSignal.timeout(5_000),
    });

    expect(analysis.kind).toBe('verdict');
    expect(arrived).toHaveLength(1);
    expect(arrived[0]?.['x-trace']).toBe('trace-1');
    for (const name of Object.keys(keyHeaders)) expect(arrived[0]?.[name.toLowerCase()]).toBeUndefined();
  });

  it('forwards no header that carries a secret, whatever its name, on a redirect to another origin', async () => {
    const arrived: Record<string, string | string[] | undefined>[] = [];
    green.respond((req, res) => {
      arrived.push(req.headers);
      res.writeHead(307, { location: `${elsewhere.url}/landed` });
      res.end();
    });
    elsewhere.respond((req, res) => {
      arrived.push(req.headers);
      res.end('ok');
    });
    const checks = Object.values(
      parsePlan({
        version: 1,
        allow: { addresses: ['loopback'], origins: [elsewhere.url] },
        secrets: { team: { ssm: '/greenlight/team' } },
        hooks: { '*': ['api'] },
        checks: {
          api: {
            type: 'http',
            url: `${green.url}/start`,
            headers: { 'X-Honeycomb-Team': '{{secret:team}}', 'X-Trace': 'trace-1' },
            followRedirects: true,
          },
        },
      }).checks,
    );
    const secrets = fakeSecrets({ '/greenlight/team': 'hc-team-51d0a9e3' });
    const [run] = buildRuns(checks, {}, { clock: systemClock, secrets });

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(o?.outcome).toBe('pass');
    expect(arrived).toHaveLength(2);
    expect(arrived[0]?.['x-honeycomb-team']).toBe('hc-team-51d0a9e3');
    expect(arrived[1]?.['x-honeycomb-team']).toBeUndefined();
    expect(arrived[1]?.['x-trace']).toBe('trace-1');
  });

  const bodyRun = (location: (path: string) => string) => {
    const bodies: string[] = [];
    const record = (req: IncomingMessage, res: ServerResponse, then: () => void): void => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        bodies.push(`${req.url} ${body}`);
        then();
      });
      res.on('error', () => undefined);
    };
    green.respond((req, res) =>
      record(req, res, () => {
        if (req.url === '/start') {
          res.writeHead(307, { location: location('/landed') });
          res.end();
        } else res.end('ok');
      }),
    );
    elsewhere.respond((req, res) => record(req, res, () => res.end('ok')));
    const checks = Object.values(
      parsePlan({
        version: 1,
        allow: { addresses: ['loopback'], origins: [elsewhere.url] },
        secrets: { pw: { ssm: '/greenlight/pw' } },
        hooks: { '*': ['api'] },
        checks: {
          api: {
            type: 'http',
            method: 'POST',
            url: `${green.url}/start`,
            body: { user: 'probe', password: '{{secret:pw}}' },
            followRedirects: true,
          },
        },
      }).checks,
    );
    const [run] = buildRuns(
      checks,
      {},
      { clock: systemClock, secrets: fakeSecrets({ '/greenlight/pw': 'pw-4a9c0e71d3' }) },
    );
    return { bodies, run };
  };

  it('refuses a 307 to another origin that would re-send a body carrying a secret', async () => {
    const { bodies, run } = bodyRun((path) => `${elsewhere.url}${path}`);

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(o?.outcome).toBe('fail');
    expect(o?.message).toMatch(
      /redirect to http:\/\/127\.0\.0\.1:\d+\/landed refused: it would send the body's secret to another origin/,
    );
    expect(bodies).toEqual(['/start {"user":"probe","password":"pw-4a9c0e71d3"}']);
  });

  it('follows a 307 within the origin with the body that carries a secret', async () => {
    const { bodies, run } = bodyRun((path) => path);

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(o?.outcome).toBe('pass');
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe('/landed {"user":"probe","password":"pw-4a9c0e71d3"}');
  });

  it.each(Object.entries(keyHeaders))(
    'sends %s to the origin it was written for, and keeps what green echoes of it out of the verdict',
    async (name, value) => {
      const received: (string | string[] | undefined)[] = [];
      green.respond((req, res) => {
        received.push(req.headers[name.toLowerCase()]);
        // The worst green: the credential it was sent, in the body the plan's expectation quotes.
        res.end(`not json: ${req.headers[name.toLowerCase()]}`);
      });

      const analysis = await analyze({
        checks: run({ [name]: value }, { json: { ok: true } }),
        clock: systemClock,
        signal: AbortSignal.timeout(5_000),
      });

      expect(received).toEqual([value]);
      expect(analysis.kind === 'verdict' && analysis.verdict.reasons.join('\n')).toMatch(
        /not JSON \(starts "not json: \*\*\*"/,
      );
      expect(JSON.stringify(analysis)).not.toContain(value.slice(0, 6));
    },
  );
});

describe('secrets and the deployment context, filled in one pass (issue 11)', () => {
  let target: HttpTarget;
  const received: Record<string, string | string[] | undefined>[] = [];

  beforeAll(async () => {
    target = await startHttpTarget((req, res) => {
      received.push(req.headers);
      res.end('ok');
    });
  });

  afterAll(async () => {
    await target.close();
  });

  beforeEach(() => {
    received.length = 0;
  });

  const checks = (headers: Record<string, string>) =>
    Object.values(
      parsePlan({
        version: 1,
        allow: { addresses: ['loopback'] },
        secrets: { db: { ssm: '/greenlight/db' } },
        hooks: { '*': ['api'] },
        checks: { api: { type: 'http', url: `${target.url}/`, headers } },
      }).checks,
    );

  it('sends an application name of {{secret:db}} as that text, never as the secret', async () => {
    const port = fakeSecrets({ '/greenlight/db': 'db-pw-9e4c1a7f' });
    const [run] = buildRuns(
      checks({ 'X-App': '{{applicationName}}', 'X-Db-Token': '{{secret:db}}' }),
      { applicationName: '{{secret:db}}' },
      { clock: systemClock, secrets: port },
    );

    const o = await run?.measure(AbortSignal.timeout(5_000));

    expect(o?.outcome).toBe('pass');
    expect(received[0]?.['x-app']).toBe('{{secret:db}}');
    expect(received[0]?.['x-db-token']).toBe('db-pw-9e4c1a7f');
  });

  it('sends a deployment value holding another placeholder as that text', async () => {
    const port = fakeSecrets({ '/greenlight/db': 'db-pw-9e4c1a7f' });
    const [run] = buildRuns(
      checks({ 'X-App': '{{applicationName}}', 'X-Db-Token': '{{secret:db}}' }),
      { applicationName: '{{testListenerUrl}}', testListenerUrl: 'http://prod.example' },
      { clock: systemClock, secrets: port },
    );

    await run?.measure(AbortSignal.timeout(5_000));

    expect(received[0]?.['x-app']).toBe('{{testListenerUrl}}');
  });

  it('never sends a secret too short to scrub: an error naming the secret, not its value', async () => {
    const port = fakeSecrets({ '/greenlight/db': 'q7z' });
    const [run] = buildRuns(checks({ 'X-Db-Token': '{{secret:db}}' }), {}, { clock: systemClock, secrets: port });

    const analysis = await analyze({
      checks: run ? [run] : [],
      clock: systemClock,
      signal: AbortSignal.timeout(5_000),
    });

    expect(received).toEqual([]);
    expect(analysis.kind === 'verdict' && analysis.verdict.status).toBe('error');
    const reasons = analysis.kind === 'verdict' ? analysis.verdict.reasons.join('\n') : '';
    expect(reasons).toMatch(/secret db \(SSM \/greenlight\/db\) is shorter than 4 characters/);
    expect(JSON.stringify(analysis)).not.toContain('q7z');
  });
});

describe('a secret in the URL (issue 11, real server on loopback)', () => {
  let target: HttpTarget;
  const pw = 'pa ss;word-7c1e';

  beforeAll(async () => {
    target = await startHttpTarget();
  });

  afterAll(async () => {
    await target.close();
  });

  const run = (url: string, expectation: Record<string, unknown>) =>
    buildRuns(
      Object.values(
        parsePlan({
          version: 1,
          allow: { addresses: ['loopback'] },
          secrets: { pw: { ssm: '/greenlight/pw' } },
          hooks: { '*': ['api'] },
          checks: { api: { type: 'http', url, expect: expectation } },
        }).checks,
      ),
      {},
      { clock: systemClock, secrets: fakeSecrets({ '/greenlight/pw': pw }) },
    );

  const leaks = (text: string): string[] =>
    [
      'pa ss',
      'pa%20ss',
      'pa+ss',
      'ss;word',
      'ss%3Bword',
      Buffer.from(`user:${pw}`).toString('base64').slice(8, 20),
    ].filter((form) => text.includes(form));

  it('keeps a secret in the URL path out of the verdict, in the encoding the path gives it', async () => {
    const paths: string[] = [];
    target.respond((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(503);
      res.end(`no such thing: ${req.url}`);
    });

    const analysis = await analyze({
      checks: run(`${target.url}/keys/{{secret:pw}}`, {}),
      clock: systemClock,
      signal: AbortSignal.timeout(5_000),
    });

    expect(paths).toEqual(['/keys/pa%20ss;word-7c1e']);
    const reasons = analysis.kind === 'verdict' ? analysis.verdict.reasons.join('\n') : '';
    expect(reasons).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/keys\/\*\*\*: status 503/);
    expect(leaks(JSON.stringify(analysis))).toEqual([]);
  });

  it('keeps a password in the URL user info out of the verdict, and the Basic credentials it becomes', async () => {
    const seen: (string | undefined)[] = [];
    target.respond((req, res) => {
      seen.push(req.headers.authorization);
      res.end(`not json: ${req.headers.authorization}`);
    });

    const analysis = await analyze({
      checks: run(`http://user:{{secret:pw}}@${target.url.slice('http://'.length)}/`, { json: { ok: true } }),
      clock: systemClock,
      signal: AbortSignal.timeout(5_000),
    });

    expect(seen).toEqual([`Basic ${Buffer.from(`user:${pw}`).toString('base64')}`]);
    const reasons = analysis.kind === 'verdict' ? analysis.verdict.reasons.join('\n') : '';
    expect(reasons).toMatch(/not JSON \(starts "not json: Basic \*\*\*/);
    expect(leaks(JSON.stringify(analysis))).toEqual([]);
  });
});
