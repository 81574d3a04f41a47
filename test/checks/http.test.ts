import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonPath } from '../../lib/checks/body-expect.ts';
import { defaultAllow } from '../../lib/checks/egress.ts';
import { type HttpSpec, httpCheck, redact } from '../../lib/checks/http.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { CheckPolicy, Measure, Observation } from '../../lib/core/types.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { Fields } from '../../lib/spec/fields.ts';
import { fillPlaceholders } from '../../lib/spec/placeholders.ts';
import { type HttpTarget, json, type Route, startHttpTarget } from '../support/http-target.ts';

const path = 'checks.t';

/** Reads an http check's plan fields as the schema would; fails the test on any plan issue. */
function specOf(raw: Record<string, unknown>): HttpSpec {
  const f = new Fields();
  const spec = httpCheck.parse(raw, path, f);
  if (spec === undefined || f.issues.length > 0) throw new Error(`unexpected plan issues: ${f.issues.join('; ')}`);
  return spec;
}

/** These tests probe servers on 127.0.0.1, which a plan must allow explicitly. */
const local: CheckDeps = {
  clock: systemClock,
  egress: { allow: { ...defaultAllow, addresses: ['loopback'] }, deploymentHosts: new Set() },
};

function probe(raw: Record<string, unknown>): Measure {
  return httpCheck.create(specOf(raw), local, path);
}

/** One measurement, never allowed to take more than `limitMs`. */
function measureOnce(raw: Record<string, unknown>, limitMs = 5000): Promise<Observation> {
  return probe(raw)(AbortSignal.timeout(limitMs));
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

function parseIssues(raw: Record<string, unknown>): string[] {
  const f = new Fields();
  httpCheck.parse(raw, path, f);
  return f.issues;
}

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A route that records each request, body included, then answers with `then`. */
function recording(seen: Seen[], then: Route = (_req, res) => res.end('ok')): Route {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      then(req, res);
    });
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Route {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
}

/** Answers by path; anything else is a 404. */
function byPath(routes: Record<string, Route>): Route {
  return (req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else text(404, 'not found')(req, res);
  };
}

function redirect(status: number, location: string): Route {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/** Answers after `ms`, unless the client went away first. */
function delayed(ms: number, then: Route): Route {
  return (req, res) => {
    const timer = setTimeout(() => then(req, res), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

/** Streams `totalBytes` of body, respecting backpressure, and stops when the client goes away. */
function streaming(totalBytes: number, progress: { sent: number }): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const pump = (): void => {
      while (!closed && progress.sent < totalBytes) {
        progress.sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  };
}

/** The URL of a port that was just listening and no longer is. */
async function closedPortUrl(): Promise<string> {
  const gone = await startHttpTarget();
  await gone.close();
  return gone.url;
}

let target: HttpTarget;

beforeAll(async () => {
  target = await startHttpTarget();
});

afterEach(() => {
  target.hits.length = 0;
  target.respond((_req, res) => res.end('ok'));
});

afterAll(async () => {
  await target.close();
});

describe('http check: parse', () => {
  it('applies defaults: GET, 2xx, no redirects, 1 MiB of body', () => {
    // Act
    const spec = specOf({ url: 'http://green/health' });

    // Assert
    expect(spec).toEqual({
      url: 'http://green/health',
      method: 'GET',
      headers: {},
      expect: { status: [[200, 299]] },
      followRedirects: 0,
      maxBodyBytes: 1024 * 1024,
    });
  });

  it.each<[string, unknown, [number, number][]]>([
    ['a single status', 204, [[204, 204]]],
    [
      'a list of statuses',
      [200, 204],
      [
        [200, 200],
        [204, 204],
      ],
    ],
    [
      'a class',
      ['2xx', '4XX'],
      [
        [200, 299],
        [400, 499],
      ],
    ],
    ['a range', ['200-204'], [[200, 204]]],
    ['a status as text', ['503'], [[503, 503]]],
  ])('reads %s', (_name, status, ranges) => {
    expect(specOf({ url: 'http://g/', expect: { status } }).expect.status).toEqual(ranges);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a status out of range', { expect: { status: [700] } }, 'checks.t.expect.status[0]: expected an integer 100-599'],
    ['a single status out of range', { expect: { status: 99 } }, 'checks.t.expect.status: expected an integer 100-599'],
    ['a backwards range', { expect: { status: ['299-200'] } }, 'checks.t.expect.status[0]: expected an integer'],
    ['an empty status list', { expect: { status: [] } }, 'checks.t.expect.status: must list at least one status'],
    ['an unknown method', { method: 'FETCH' }, 'checks.t.method: expected one of GET, HEAD, POST'],
    [
      'a bad regular expression',
      { expect: { bodyMatches: '(' } },
      'checks.t.expect.bodyMatches: invalid regular expression',
    ],
    [
      'a bad JSON path',
      { expect: { json: { 'items[x]': 1 } } },
      'checks.t.expect.json.items[x]: expected a field path',
    ],
    ['too many redirects', { followRedirects: 11 }, 'checks.t.followRedirects: expected an integer 0-10'],
    [
      'a body too large',
      { body: 'x'.repeat(64 * 1024 + 1) },
      'checks.t.body: expected a string or JSON value of at most 64 KiB',
    ],
    ['a header that is not a string', { headers: { 'x-a': 1 } }, 'checks.t.headers.x-a: expected a string'],
    ['a bad maxLatency', { expect: { maxLatency: 100 } }, 'checks.t.expect.maxLatency: expected a duration'],
    ['no url', { url: undefined }, 'checks.t.url: expected a string, got nothing'],
  ])('names the field for %s', (_name, fields, issue) => {
    // Act
    const issues = parseIssues({ url: 'http://g/', ...fields });

    // Assert
    expect(issues).toEqual([expect.stringContaining(issue)]);
  });

  it.each<[unknown, number]>([
    [true, 5],
    [false, 0],
    [3, 3],
  ])('reads followRedirects %j as %d hops', (followRedirects, hops) => {
    expect(specOf({ url: 'http://g/', followRedirects }).followRedirects).toBe(hops);
  });

  it('sends a JSON body value as JSON text', () => {
    expect(specOf({ url: 'http://g/', body: { ping: [1] } }).body).toBe('{"ping":[1]}');
  });
});

describe('http check: create', () => {
  it('throws a PlanError naming the field when the filled URL is not a valid URL', () => {
    // Arrange: the placeholder was fine at parse time; its value is not a URL
    const spec = fillPlaceholders(specOf({ url: '{{testListenerUrl}}/health' }), { testListenerUrl: 'green lb' }, path);

    // Act
    const act = () => httpCheck.create(spec, { clock: systemClock }, path);

    // Assert
    expect(act).toThrow(PlanError);
    expect(act).toThrow('checks.t.url: not a valid absolute URL');
  });

  it('throws a PlanError for a URL that is not http or https', () => {
    // Arrange
    const spec = specOf({ url: 'file:///etc/passwd' });

    // Act
    const act = () => httpCheck.create(spec, { clock: systemClock }, path);

    // Assert
    expect(act).toThrow(PlanError);
    expect(act).toThrow('checks.t.url: only http and https URLs can be probed, got file:');
  });
});

describe('http check: status', () => {
  it.each<[string, unknown, number, Observation['outcome']]>([
    ['default 2xx accepts 200', undefined, 200, 'pass'],
    ['default 2xx accepts 299', undefined, 299, 'pass'],
    ['default 2xx rejects 404', undefined, 404, 'fail'],
    ['default 2xx rejects 500', undefined, 500, 'fail'],
    ['a list accepts a listed status', [200, 204], 204, 'pass'],
    ['a list rejects an unlisted status', [200], 201, 'fail'],
    ['a class accepts its members', ['4xx'], 418, 'pass'],
    ['a class rejects others', ['2xx'], 302, 'fail'],
    ['a range accepts its ends', ['200-204'], 204, 'pass'],
    ['a range rejects what is past its end', ['200-204'], 205, 'fail'],
    ['an expected error status passes', [503], 503, 'pass'],
  ])('%s', async (_name, status, served, outcome) => {
    // Arrange
    target.respond(text(served, 'x'));

    // Act
    const o = await measureOnce({
      url: `${target.url}/health`,
      ...(status === undefined ? {} : { expect: { status } }),
    });

    // Assert
    expect(o.outcome).toBe(outcome);
    expect(o.value).toBe(served);
  });

  it('says which status it got and which it expected', async () => {
    // Arrange
    target.respond(text(500, 'boom'));

    // Act
    const o = await measureOnce({ url: `${target.url}/health`, expect: { status: [200, '3xx', '401-403'] } });

    // Assert
    expect(o.message).toBe(`GET ${target.url}/health: status 500, expected 200, 3xx, 401-403`);
  });

  it('passes with the status and the latency in the message', async () => {
    // Act
    const o = await measureOnce({ url: `${target.url}/health` });

    // Assert
    expect(o).toMatchObject({ outcome: 'pass', value: 200 });
    expect(o.message).toMatch(new RegExp(`^GET ${target.url}/health: 200 in \\d+ ms$`));
  });
});

describe('http check: body', () => {
  it.each<[string, Record<string, unknown>, string, Observation['outcome'], string]>([
    ['bodyContains present', { bodyContains: 'UP' }, 'status: UP', 'pass', ''],
    ['bodyContains absent', { bodyContains: 'UP' }, 'status: DOWN', 'fail', 'body does not contain "UP"'],
    ['bodyMatches matching', { bodyMatches: '"status":\\s*"UP"' }, '{"status": "UP"}', 'pass', ''],
    ['bodyMatches not matching', { bodyMatches: '^UP$' }, 'DOWN', 'fail', 'body does not match /^UP$/'],
  ])('%s', async (_name, expectation, body, outcome, message) => {
    // Arrange
    target.respond(text(200, body));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: expectation });

    // Assert
    expect(o.outcome).toBe(outcome);
    expect(o.message).toContain(message);
  });

  const doc = {
    status: 'UP',
    ready: true,
    version: null,
    data: { items: [{ id: 1 }, { id: 7, tags: ['green'] }] },
    meta: { region: 'eu-west-1', zones: 3 },
  };

  it.each<[string, Record<string, unknown>, Observation['outcome'], string]>([
    ['a top-level field', { status: 'UP' }, 'pass', ''],
    ['a boolean field', { ready: true }, 'pass', ''],
    ['a null field', { version: null }, 'pass', ''],
    ['a nested path with an array index', { 'data.items[1].id': 7 }, 'pass', ''],
    ['an index inside an index', { 'data.items[1].tags[0]': 'green' }, 'pass', ''],
    ['a whole object', { meta: { zones: 3, region: 'eu-west-1' } }, 'pass', ''],
    ['several fields', { status: 'UP', 'data.items[0].id': 1 }, 'pass', ''],
    ['a different value', { 'data.items[1].id': 8 }, 'fail', 'JSON data.items[1].id is 7, expected 8'],
    ['a string that looks like the number', { 'meta.zones': '3' }, 'fail', 'JSON meta.zones is 3, expected "3"'],
    ['a missing field', { 'data.missing': 1 }, 'fail', 'JSON data.missing is missing, expected 1'],
    ['an index past the end', { 'data.items[5].id': 1 }, 'fail', 'JSON data.items[5].id is missing'],
    ['an index into an object', { 'meta[0]': 1 }, 'fail', 'JSON meta[0] is missing'],
    ['an object with an extra key', { meta: { region: 'eu-west-1' } }, 'fail', 'JSON meta is'],
  ])('json: %s', async (_name, expectation, outcome, message) => {
    // Arrange
    target.respond(json(200, doc));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { json: expectation } });

    // Assert
    expect(o.outcome).toBe(outcome);
    expect(o.message).toContain(message);
  });

  it('fails when a JSON field is expected and the body is not JSON', async () => {
    // Arrange
    target.respond(text(200, '<html>maintenance</html>'));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { json: { status: 'UP' } } });

    // Assert
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('body is not JSON (starts "<html>maintenance</html>")');
  });

  it('does not look up inherited properties as JSON fields', async () => {
    // Arrange
    target.respond(json(200, {}));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { json: { 'constructor.name': 'Object' } } });

    // Assert
    expect(o.outcome).toBe('fail');
  });
});

describe('http check: headers and latency', () => {
  it.each<[string, Record<string, string>, Observation['outcome'], string]>([
    ['a matching header, named in any case', { 'X-Version': 'v2' }, 'pass', ''],
    ['a different value', { 'x-version': 'v1' }, 'fail', 'header x-version is "v2", expected "v1"'],
    ['a missing header', { 'x-color': 'green' }, 'fail', 'header x-color is missing, expected "green"'],
  ])('headers: %s', async (_name, headers, outcome, message) => {
    // Arrange
    target.respond(text(200, 'ok', { 'x-version': 'v2' }));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { headers } });

    // Assert
    expect(o.outcome).toBe(outcome);
    expect(o.message).toContain(message);
  });

  it('fails when the response takes longer than maxLatency', async () => {
    // Arrange
    target.respond(delayed(150, text(200, 'ok')));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { maxLatency: '50ms' } });

    // Assert
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/took \d+ ms, more than maxLatency 50 ms/);
  });

  it('passes when the response comes within maxLatency', async () => {
    // Act
    const o = await measureOnce({ url: `${target.url}/`, expect: { maxLatency: '2s' } });

    // Assert
    expect(o.outcome).toBe('pass');
  });
});

describe('http check: request', () => {
  it('sends the configured method, headers and body', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(recording(seen));

    // Act
    const o = await measureOnce({
      url: `${target.url}/echo?x=1`,
      method: 'PUT',
      headers: { 'X-Api-Key': 'k-1', 'Content-Type': 'text/plain' },
      body: 'hello',
    });

    // Assert
    expect(o.outcome).toBe('pass');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/echo?x=1', body: 'hello' });
    expect(seen[0]?.headers).toMatchObject({
      'x-api-key': 'k-1',
      'content-type': 'text/plain',
      'content-length': '5',
      'user-agent': 'greenlight',
    });
  });

  it('sends a JSON body with a JSON content type unless one is given', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(recording(seen));

    // Act
    await measureOnce({ url: `${target.url}/`, method: 'POST', body: { ping: true } });

    // Assert
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"ping":true}' });
    expect(seen[0]?.headers['content-type']).toBe('application/json');
  });

  it('sends no body and no content type for a plain GET', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(recording(seen));

    // Act
    await measureOnce({ url: `${target.url}/` });

    // Assert
    expect(seen[0]).toMatchObject({ method: 'GET', body: '' });
    expect(seen[0]?.headers['content-type']).toBeUndefined();
  });

  it('checks the status of a HEAD request', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(recording(seen, text(204, '')));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, method: 'HEAD', expect: { status: [204] } });

    // Assert
    expect(o.outcome).toBe('pass');
    expect(seen[0]?.method).toBe('HEAD');
  });
});

describe('http check: could not measure', () => {
  it('is an error, not a pass, when the connection is refused', async () => {
    // Arrange
    const url = await closedPortUrl();

    // Act
    const o = await measureOnce({ url: `${url}/health` });

    // Assert
    expect(o).toEqual({ outcome: 'error', message: `GET ${url}/health: connection refused` });
  });

  it('is an error when the connection is reset in the middle of the body', async () => {
    // Arrange
    target.respond((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial body');
      setTimeout(() => req.socket.destroy(), 20);
    });

    // Act
    const o = await measureOnce({ url: `${target.url}/` });

    // Assert
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('connection closed before the response body ended');
  });

  it('is an error when the server never answers and the measurement is aborted', async () => {
    // Arrange
    target.respond(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);

    // Act
    const { value: o, ms } = await timed(() => probe({ url: `${target.url}/` })(controller.signal));

    // Assert
    expect(o).toEqual({ outcome: 'error', message: `GET ${target.url}/: aborted` });
    expect(ms).toBeLessThan(1000);
  });

  it('is an error carrying the abort reason when a slow body is cut off', async () => {
    // Arrange: headers come at once, the body never ends
    target.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('timed out after 100 ms')), 100);

    // Act
    const { value: o, ms } = await timed(() => probe({ url: `${target.url}/` })(controller.signal));

    // Assert
    expect(o).toEqual({ outcome: 'error', message: `GET ${target.url}/: timed out after 100 ms` });
    expect(ms).toBeLessThan(1000);
  });

  it('is an error at once when the signal is already aborted', async () => {
    // Arrange
    const controller = new AbortController();
    controller.abort();

    // Act
    const o = await probe({ url: `${target.url}/` })(controller.signal);

    // Assert
    expect(o.outcome).toBe('error');
  });

  it('ends in error, not pass, when a slow server exceeds the check timeout under analyze', async () => {
    // Arrange
    target.respond(delayed(2000, text(200, 'ok')));
    const policy: CheckPolicy = {
      initialDelayMs: 0,
      count: 1,
      intervalMs: 10,
      timeoutMs: 100,
      failureLimit: 0,
      consecutiveErrorLimit: 0,
      consecutiveSuccesses: 0,
      inconclusiveLimit: 0,
      dryRun: false,
    };
    const measure = probe({ url: `${target.url}/slow` });

    // Act
    const { value: analysis, ms } = await timed(() =>
      analyze({
        checks: [{ name: 'slow', kind: 'http', policy, measure }],
        clock: systemClock,
        signal: AbortSignal.timeout(5000),
      }),
    );

    // Assert
    expect(ms).toBeLessThan(1000);
    expect(analysis.kind).toBe('verdict');
    if (analysis.kind !== 'verdict') return;
    expect(analysis.verdict.status).toBe('error');
    // The analysis takes the check's own error when it comes within a moment of the cut (lib/core/analyze.ts).
    expect(analysis.verdict.checks[0]?.recent[0]).toMatchObject({
      outcome: 'error',
      message: expect.stringMatching(/^(GET \S+\/slow: )?timed out after 100 ms$/),
    });
  });
});

describe('http check: response size', () => {
  const fiftyMiB = 50 * 1024 * 1024;

  it('stops reading a huge body at maxBodyBytes and fails body checks, saying why', async () => {
    // Arrange
    const progress = { sent: 0 };
    target.respond(streaming(fiftyMiB, progress));

    // Act
    const { value: o, ms } = await timed(() =>
      measureOnce({ url: `${target.url}/big`, maxBodyBytes: 4096, expect: { bodyContains: 'needle' } }),
    );

    // Assert
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('body is larger than maxBodyBytes (4096 bytes read)');
    expect(ms).toBeLessThan(1000);
    expect(progress.sent).toBeLessThan(fiftyMiB / 2);
  });

  it('passes a status-only check on a huge body without reading all of it', async () => {
    // Arrange
    const progress = { sent: 0 };
    target.respond(streaming(fiftyMiB, progress));

    // Act
    const { value: o, ms } = await timed(() => measureOnce({ url: `${target.url}/big`, maxBodyBytes: 4096 }));

    // Assert
    expect(o.outcome).toBe('pass');
    expect(ms).toBeLessThan(1000);
    expect(progress.sent).toBeLessThan(fiftyMiB / 2);
  });

  it('reads a body exactly maxBodyBytes long in full', async () => {
    // Arrange
    target.respond(text(200, `${'x'.repeat(95)}needle`));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, maxBodyBytes: 101, expect: { bodyContains: 'needle' } });

    // Assert
    expect(o.outcome).toBe('pass');
  });
});

describe('http check: redirects', () => {
  it('does not follow a redirect by default and says so', async () => {
    // Arrange
    target.respond(byPath({ '/start': redirect(302, '/end'), '/end': text(200, 'ok') }));

    // Act
    const o = await measureOnce({ url: `${target.url}/start` });

    // Assert
    expect(o).toMatchObject({ outcome: 'fail', value: 302 });
    expect(o.message).toContain('status 302 (redirect not followed), expected 2xx');
    expect(target.hits).toEqual(['/start']);
  });

  it('can expect the redirect itself', async () => {
    // Arrange
    target.respond(byPath({ '/start': redirect(301, '/end') }));

    // Act
    const o = await measureOnce({ url: `${target.url}/start`, expect: { status: [301] } });

    // Assert
    expect(o.outcome).toBe('pass');
  });

  it('follows redirects when followRedirects is true and checks the final response', async () => {
    // Arrange
    target.respond(
      byPath({ '/start': redirect(302, '/middle'), '/middle': redirect(301, '/end'), '/end': text(200, 'final') }),
    );

    // Act
    const o = await measureOnce({
      url: `${target.url}/start`,
      followRedirects: true,
      expect: { bodyContains: 'final' },
    });

    // Assert
    expect(o.outcome).toBe('pass');
    expect(o.message).toContain(`GET ${target.url}/end: 200`);
    expect(target.hits).toEqual(['/start', '/middle', '/end']);
  });

  it('stops at the redirect limit and fails', async () => {
    // Arrange
    target.respond(
      byPath({
        '/r1': redirect(302, '/r2'),
        '/r2': redirect(302, '/r3'),
        '/r3': redirect(302, '/r4'),
        '/r4': text(200, 'ok'),
      }),
    );

    // Act
    const o = await measureOnce({ url: `${target.url}/r1`, followRedirects: 2 });

    // Assert
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(`${target.url}/r3: status 302`);
    expect(target.hits).toEqual(['/r1', '/r2', '/r3']);
  });

  it('ends an endless redirect loop after five hops when followRedirects is true', async () => {
    // Arrange
    target.respond(redirect(302, '/loop'));

    // Act
    const o = await measureOnce({ url: `${target.url}/loop`, followRedirects: true });

    // Assert
    expect(o.outcome).toBe('fail');
    expect(target.hits).toHaveLength(6);
  });

  it('turns a POST into a GET without a body on 303', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(byPath({ '/submit': recording(seen, redirect(303, '/result')), '/result': recording(seen) }));

    // Act
    const o = await measureOnce({ url: `${target.url}/submit`, method: 'POST', body: '{"a":1}', followRedirects: 1 });

    // Assert
    expect(o.outcome).toBe('pass');
    expect(o.message).toMatch(new RegExp(`^GET ${target.url}/result: 200`));
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/submit', '{"a":1}'],
      ['GET', '/result', ''],
    ]);
    expect(seen[1]?.headers['content-length']).toBeUndefined();
  });

  it('keeps the method and body on 307', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(byPath({ '/submit': recording(seen, redirect(307, '/again')), '/again': recording(seen) }));

    // Act
    await measureOnce({ url: `${target.url}/submit`, method: 'PUT', body: 'data', followRedirects: 1 });

    // Assert
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['PUT', 'data'],
      ['PUT', 'data'],
    ]);
  });

  it('fails a redirect to a scheme other than http or https without following it', async () => {
    // Arrange
    target.respond(redirect(302, 'file:///etc/passwd'));

    // Act
    const o = await measureOnce({ url: `${target.url}/`, followRedirects: true });

    // Assert
    expect(o.outcome).toBe('fail');
    expect(o.message).toContain('redirect to unsupported scheme file:');
  });

  it('does not forward credentials to another origin', async () => {
    // Arrange
    const other = await startHttpTarget();
    try {
      const seen: Seen[] = [];
      other.respond(recording(seen));
      target.respond(redirect(302, `${other.url}/elsewhere`));

      // Act
      const deps: CheckDeps = {
        ...local,
        egress: {
          allow: { ...defaultAllow, addresses: ['loopback'], origins: [`${other.url}`] },
          deploymentHosts: new Set(),
        },
      };
      const spec = specOf({
        url: `${target.url}/`,
        followRedirects: true,
        headers: { Authorization: 'Bearer s3cr3t', Cookie: 'session=s3cr3t', 'X-Trace': 'keep' },
      });
      const o = await httpCheck.create(spec, deps, path)(AbortSignal.timeout(5000));

      // Assert
      expect(o.outcome).toBe('pass');
      expect(seen[0]?.headers.authorization).toBeUndefined();
      expect(seen[0]?.headers.cookie).toBeUndefined();
      expect(seen[0]?.headers['x-trace']).toBe('keep');
    } finally {
      await other.close();
    }
  });

  it('keeps credentials on a redirect within the same origin', async () => {
    // Arrange
    const seen: Seen[] = [];
    target.respond(byPath({ '/a': redirect(302, '/b'), '/b': recording(seen) }));

    // Act
    await measureOnce({ url: `${target.url}/a`, followRedirects: true, headers: { Authorization: 'Bearer t' } });

    // Assert
    expect(seen[0]?.headers.authorization).toBe('Bearer t');
  });
});

describe('http check: secrets', () => {
  const secret = 's3cr3t-t0ken';

  it.each<[string, Route, Record<string, unknown>]>([
    ['a pass', text(200, 'ok'), {}],
    ['a status failure', text(500, 'no'), {}],
    ['a body failure', text(200, 'no'), { expect: { bodyContains: 'yes' } }],
    ['an unfollowed redirect', redirect(302, `/next?token=${secret}`), {}],
    [
      'a followed redirect',
      byPath({ '/health': redirect(302, `/next?token=${secret}`), '/next': text(500, 'x') }),
      { followRedirects: true },
    ],
  ])('never puts the query string or credentials of the URL in the message: %s', async (_name, route, fields) => {
    // Arrange
    target.respond(route);
    const url = `http://user:${secret}@127.0.0.1:${target.port}/health?token=${secret}#${secret}`;

    // Act
    const o = await measureOnce({ url, ...fields });

    // Assert
    expect(o.message).not.toContain(secret);
    expect(o.message).toContain(`127.0.0.1:${target.port}/`);
  });

  it('never puts the query string in the message of a connection error', async () => {
    // Arrange
    const url = await closedPortUrl();

    // Act
    const o = await measureOnce({ url: `${url}/health?token=${secret}` });

    // Assert
    expect(o.outcome).toBe('error');
    expect(o.message).not.toContain(secret);
  });

  it('never puts the query string in the PlanError of a URL with a bad scheme', () => {
    // Act
    const act = () => httpCheck.create(specOf({ url: `ftp://h/x?token=${secret}` }), { clock: systemClock }, path);

    // Assert
    expect(act).toThrow(PlanError);
    expect(act).not.toThrow(secret);
  });

  it.each([
    [`http://u:${secret}@h:8080/p?token=${secret}#${secret}`, 'http://h:8080/p'],
    ['https://h/', 'https://h/'],
    ['not a url', '(unparseable URL)'],
  ])('redact(%j) is %j', (url, redacted) => {
    expect(redact(url)).toBe(redacted);
  });
});

describe('parseJsonPath', () => {
  it.each<[string, (string | number)[]]>([
    ['status', ['status']],
    ['data.items[0].id', ['data', 'items', 0, 'id']],
    ['[2]', [2]],
    ['a[0][1]', ['a', 0, 1]],
  ])('reads %j', (text, steps) => {
    expect(parseJsonPath(text)).toEqual(steps);
  });

  it.each(['', '.', 'a[x]', 'a[-1]', 'a[0', 'a..b', '.a', 'a.', 'a.[0]'])('rejects %j', (text) => {
    expect(parseJsonPath(text)).toBeUndefined();
  });
});
