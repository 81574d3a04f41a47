import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BodyBudget, bodyBudgetBytes, functionMemoryMiB } from '../../lib/checks/body-budget.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { analyze } from '../../lib/core/analyze.ts';
import type { Observation, Verdict } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';

/**
 * Probe faults test/checks/http.test.ts does not already cover (refused, reset mid-body, hangs, cut-off
 * bodies, 50 MiB bodies, non-JSON bodies are there): intermittent and constant 503s under the policy,
 * a body that drips, an untrusted certificate, a body of hundreds of megabytes. Each through the plan,
 * as a trigger builds it, against a real server on loopback.
 */

const deps: CheckDeps = { clock: systemClock };

function runsOf(check: Record<string, unknown>) {
  const plan = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    hooks: { '*': ['probe'] },
    checks: { probe: check },
  });
  return buildRuns(Object.values(plan.checks), {}, deps);
}

async function verdictOf(check: Record<string, unknown>, limitMs = 10_000): Promise<Verdict> {
  const analysis = await analyze({ checks: runsOf(check), clock: systemClock, signal: AbortSignal.timeout(limitMs) });
  if (analysis.kind !== 'verdict') throw new Error('suspended');
  return analysis.verdict;
}

async function measureOnce(check: Record<string, unknown>, limitMs = 10_000): Promise<Observation> {
  const [run] = runsOf(check);
  if (!run) throw new Error('no run');
  return run.measure(AbortSignal.timeout(limitMs));
}

let target: HttpTarget;

beforeAll(async () => {
  target = await startHttpTarget();
});

afterAll(async () => {
  await target.close();
});

describe('503s', () => {
  /** 200, 503, 200, 503, ... in the order requests arrive. */
  const alternating = () => {
    let n = 0;
    target.respond((_req, res) => {
      res.statusCode = n++ % 2 === 0 ? 200 : 503;
      res.end();
    });
  };

  it('fails on intermittent 503s when the policy tolerates none', async () => {
    alternating();
    const v = await verdictOf({ type: 'http', url: `${target.url}/`, count: 6, interval: '10ms' });

    expect(v.status).toBe('fail');
    expect(v.reasons[0]).toMatch(
      /probe: fail: 1 failed \(failureLimit 0\) after 2 of 6 measurements; last: .*status 503/,
    );
  });

  it('passes intermittent 503s within failureLimit, and fails once they exceed it', async () => {
    alternating();
    const within = await verdictOf({
      type: 'http',
      url: `${target.url}/`,
      count: 6,
      interval: '10ms',
      failureLimit: 3,
    });
    alternating();
    const beyond = await verdictOf({
      type: 'http',
      url: `${target.url}/`,
      count: 6,
      interval: '10ms',
      failureLimit: 2,
    });

    expect(within.status).toBe('pass');
    expect(beyond.status).toBe('fail');
  });

  it('fails on a constant 503 at the first measurement, whatever the count', async () => {
    target.respond((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const started = Date.now();
    const v = await verdictOf({ type: 'http', url: `${target.url}/`, count: 50, interval: '1s' });

    expect(v.status).toBe('fail');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('slow bodies', () => {
  it('is an error, not a pass, when the body drips a byte at a time past the check timeout', async () => {
    let dripping: NodeJS.Timeout | undefined;
    target.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      dripping = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(dripping));
    });
    const started = Date.now();

    const v = await verdictOf({
      type: 'http',
      url: `${target.url}/`,
      timeout: '300ms',
      expect: { bodyContains: 'done' },
    });

    clearInterval(dripping);
    expect(v.status).toBe('error');
    expect(v.reasons[0]).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('is an error when the body never ends even for a status-only check (the response is not complete)', async () => {
    target.respond((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });

    const v = await verdictOf({ type: 'http', url: `${target.url}/`, timeout: '300ms' });

    expect(v.status).toBe('error');
  });
});

describe('an untrusted TLS certificate', () => {
  let server: Server;
  let port: number;
  let served = 0;

  beforeAll(async () => {
    server = createHttpsServer(
      {
        key: readFileSync('test/fixtures/tls/self-signed-key.pem'),
        cert: readFileSync('test/fixtures/tls/self-signed-cert.pem'),
      },
      (_req, res) => {
        served++;
        res.end('ok');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is an error naming the certificate problem; the request never reaches the server', async () => {
    const o = await measureOnce({ type: 'http', url: `https://127.0.0.1:${port}/health` });

    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/TLS certificate rejected \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    expect(served).toBe(0);
  });

  it('never passes, however many measurements the policy takes', async () => {
    const v = await verdictOf({
      type: 'http',
      url: `https://127.0.0.1:${port}/`,
      count: 3,
      interval: '10ms',
      consecutiveErrorLimit: 5,
    });

    expect(v.status).toBe('error');
    expect(v.checks[0]?.counters.passes).toBe(0);
  });
});

describe('a body of hundreds of megabytes', () => {
  it('reads at most maxBodyBytes of a 512 MiB body, quickly, with bounded memory', async () => {
    const total = 512 * 1024 * 1024;
    const progress = { sent: 0 };
    target.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let closed = false;
      res.on('close', () => {
        closed = true;
      });
      const pump = (): void => {
        while (!closed && progress.sent < total) {
          progress.sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!closed) res.end();
      };
      pump();
    });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();

    const o = await measureOnce({ type: 'http', url: `${target.url}/huge`, expect: { json: { ok: true } } });

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/body is larger than maxBodyBytes \(1048576 bytes read\)/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(progress.sent).toBeLessThan(64 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('a bodyMatches pattern that backtracks catastrophically', () => {
  // The issue's pattern and body: V8's backtracking engine needs about 2^29 steps for this (minutes, with
  // the event loop blocked, so no deadline timer can fire). RE2 is linear in the body.
  const pattern = '^(\\w+\\s?)+$';
  const body = `${'a'.repeat(29)}!`;

  it('is judged (a fail: the body does not match) while the event loop stays free, in a worker the test can stop', async () => {
    target.respond((_req, res) => res.end(body));
    // The measurement runs in a worker thread so that this thread stays free to stop it: with a
    // backtracking engine the worker is stuck and the deadline below ends the test as a failure.
    const here = (p: string) => new URL(p, import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { httpCheck } = await import(${JSON.stringify(here('../../lib/checks/http.ts'))});
        const { Fields } = await import(${JSON.stringify(here('../../lib/spec/fields.ts'))});
        const { defaultAllow } = await import(${JSON.stringify(here('../../lib/checks/egress.ts'))});
        // A worker is a module graph of its own: load the RE2 engine as reading the plan would.
        const { loadPatternEngine } = await import(${JSON.stringify(here('../../lib/checks/body-expect.ts'))});
        await loadPatternEngine();
        const f = new Fields();
        const spec = httpCheck.parse({ url: workerData.url, expect: { bodyMatches: workerData.pattern } }, 'checks.t', f);
        const deps = { clock: { now: () => Date.now() }, egress: { allow: { ...defaultAllow, addresses: ['loopback'] }, deploymentHosts: new Set() } };
        const o = await httpCheck.create(spec, deps, 'checks.t')(AbortSignal.timeout(60000));
        parentPort.postMessage(o);
      })().catch((e) => parentPort.postMessage({ outcome: 'crash', message: String(e) }));`;
    const worker = new Worker(source, { eval: true, workerData: { url: `${target.url}/catastrophe`, pattern } });
    try {
      const o = await new Promise<Observation | 'stuck'>((resolve, reject) => {
        const deadline = setTimeout(() => resolve('stuck'), 15_000);
        worker.once('message', (m: Observation) => {
          clearTimeout(deadline);
          resolve(m);
        });
        worker.once('error', reject);
      });

      expect(o).toEqual({
        outcome: 'fail',
        message: `GET ${target.url}/catastrophe: body does not match /${pattern}/`,
        value: 200,
      });
    } finally {
      await worker.terminate();
    }
  });

  it('is a fail, not a pass or an error, through the plan and the analysis', async () => {
    target.respond((_req, res) => res.end(body));

    const v = await verdictOf({
      type: 'http',
      url: `${target.url}/x`,
      count: 2,
      interval: '10ms',
      expect: { bodyMatches: pattern },
    });

    expect(v.status).toBe('fail');
    expect(v.checks[0]?.recent[0]).toMatchObject({
      outcome: 'fail',
      message: expect.stringContaining('body does not match'),
    });
  });
});

describe('patterns RE2 cannot run are plan errors naming the field', () => {
  const problems = (check: Record<string, unknown>): string[] => {
    try {
      parsePlan({ version: 1, hooks: { '*': ['c'] }, checks: { c: check } });
      return [];
    } catch (error) {
      return [...((error as { issues?: string[] }).issues ?? [String(error)])];
    }
  };

  it.each<[string, string]>([
    ['a backreference', '(a+)\\1'],
    ['a lookahead', 'ok(?=!)'],
    ['a negative lookahead', '^(?!error)'],
    ['a lookbehind', '(?<=status: )ok'],
    ['a negative lookbehind', '(?<!not )ok'],
  ])('%s (%s) in http, compare and lambda-invoke', (_name, bad) => {
    const expected = (path: string) => [
      expect.stringMatching(
        new RegExp(
          `^${path.replaceAll('.', '\\.')}: invalid regular expression \\(RE2 syntax; backreferences and lookaround are not supported`,
        ),
      ),
    ];
    expect(problems({ type: 'http', url: 'https://green.example/', expect: { bodyMatches: bad } })).toEqual(
      expected('checks.c.expect.bodyMatches'),
    );
    expect(problems({ type: 'compare', expect: { bodyMatches: bad } })).toEqual(
      expected('checks.c.expect.bodyMatches'),
    );
    expect(problems({ type: 'lambda-invoke', expect: { bodyMatches: bad } })).toEqual(
      expected('checks.c.expect.bodyMatches'),
    );
  });

  it('accepts the RE2 syntax plans use: classes, anchors, counted repeats, named groups, inline flags', () => {
    for (const ok of ['^\\{"status":\\s*"ok"', '(?i)healthy', 'v\\d+\\.\\d+', '(?P<v>\\d+)', '(?<v>\\d+)', 'a{2,5}']) {
      expect(problems({ type: 'http', url: 'https://green.example/', expect: { bodyMatches: ok } }), ok).toEqual([]);
    }
  });
});

describe('response bodies and the function’s memory', () => {
  const MiB = 1024 * 1024;

  /** A full, synchronous garbage collection (V8's `gc`, exposed for this process). */
  const gc = (() => {
    v8.setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

  /**
   * Serves a 10 MiB body but holds back its last 64 KiB until `settle` has seen the client read the
   * rest: while the response is unfinished, whatever the check buffered is still held.
   * `settle` is polled (a full collection each time: freed buffers are swept off the main thread).
   */
  async function whileUnfinished(
    check: Record<string, unknown>,
    settle: (client: { bytesRead: number; held: number }) => void,
  ): Promise<Observation> {
    let finish: () => void = () => {};
    target.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(tenMiB) });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < tenMiB - chunk.length) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        finish = () => res.end(chunk);
      };
      pump();
    });
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let response: IncomingMessage | undefined;
    const channel = diagnostics.channel('http.client.response.finish');
    const onResponse = (message: unknown): void => {
      response = (message as { response: IncomingMessage }).response;
    };
    channel.subscribe(onResponse);
    try {
      const measurement = measureOnce({ ...check, url: `${target.url}/big` }, 30_000);
      await vi.waitFor(
        () => {
          gc();
          settle({
            bytesRead: response?.socket?.bytesRead ?? 0,
            held: process.memoryUsage().arrayBuffers - baseline,
          });
        },
        { timeout: 15_000, interval: 20 },
      );
      finish();
      return await measurement;
    } finally {
      channel.unsubscribe(onResponse);
    }
  }

  const tenMiB = 10 * MiB;

  it('does not buffer a body no expectation reads: 10 MiB read, next to nothing held', async () => {
    const statusOnly = await whileUnfinished({ type: 'http', maxBodyBytes: tenMiB }, (client) => {
      expect(client.bytesRead).toBeGreaterThan(tenMiB - 64 * 1024);
      expect(client.held).toBeLessThan(2 * MiB);
    });
    // The same measure sees the body when an expectation does need it: the comparison means something.
    const reading = await whileUnfinished(
      { type: 'http', maxBodyBytes: tenMiB, expect: { bodyContains: 'a' } },
      (client) => {
        expect(client.bytesRead).toBeGreaterThan(tenMiB - 64 * 1024);
        // Other buffers freed since the baseline blur the figure by some KiB: 8 MiB is far from the 2 above.
        expect(client.held).toBeGreaterThanOrEqual(8 * MiB);
      },
    );

    expect(statusOnly.outcome).toBe('pass');
    expect(reading.outcome).toBe('pass');
  });

  it('shares one budget among the checks of an invocation: a body that would exceed it is an error, never a pass', async () => {
    // Check a holds 1 MiB (its response stays open); check b's 1 MiB would take the invocation past 1.5 MiB.
    let release: () => void = () => {};
    target.respond((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (req.url === '/a') {
        res.write(Buffer.alloc(MiB, 0x61));
        release = () => res.end('!');
      } else res.end(Buffer.alloc(MiB, 0x61));
    });
    const plan = parsePlan({
      version: 1,
      allow: { addresses: ['loopback'] },
      hooks: { '*': ['a', 'b'] },
      checks: {
        a: { type: 'http', url: `${target.url}/a`, maxBodyBytes: 2 * MiB, expect: { bodyContains: '!' } },
        b: { type: 'http', url: `${target.url}/b`, expect: { bodyContains: 'a' } },
      },
    });
    const budget = new BodyBudget(1.5 * MiB);
    const [a, b] = buildRuns(Object.values(plan.checks), {}, { ...deps, bodyBudget: budget });
    if (!a || !b) throw new Error('no runs');

    const first = a.measure(AbortSignal.timeout(10_000));
    await vi.waitFor(() => expect(budget.used).toBe(MiB));
    const refused = await b.measure(AbortSignal.timeout(10_000));
    release();
    const held = await first;
    const after = await b.measure(AbortSignal.timeout(10_000));

    expect(refused.outcome).toBe('error');
    expect(refused.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/b: body not read: it would take this invocation past its body budget \(1\.5 MiB for all checks at once/,
    );
    expect(held.outcome).toBe('pass');
    expect(after.outcome).toBe('pass');
    expect(budget.used).toBe(0);
  });

  it('takes no budget for a body it does not keep, however small the budget', async () => {
    target.respond((_req, res) => res.end(Buffer.alloc(2 * MiB, 0x61)));
    const [run] = buildRuns(
      Object.values(
        parsePlan({
          version: 1,
          allow: { addresses: ['loopback'] },
          hooks: { '*': ['c'] },
          checks: { c: { type: 'http', url: `${target.url}/x`, maxBodyBytes: tenMiB } },
        }).checks,
      ),
      {},
      { ...deps, bodyBudget: new BodyBudget(0) },
    );

    expect(await run?.measure(AbortSignal.timeout(10_000))).toMatchObject({ outcome: 'pass' });
  });

  describe('plan validation against AWS_LAMBDA_FUNCTION_MEMORY_SIZE', () => {
    // The issue's plan: 20 http checks reading up to 10 MiB each, all run by one hook at once.
    const twenty = (expect?: Record<string, unknown>) =>
      Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [
          `c${i}`,
          { type: 'http', url: `https://green.example/${i}`, maxBodyBytes: 10485760, ...(expect ? { expect } : {}) },
        ]),
      );
    const problems = (
      checks: Record<string, unknown>,
      hooks: Record<string, string[]> = { '*': Object.keys(checks) },
    ) => {
      try {
        parsePlan({ version: 1, hooks, checks });
        return [];
      } catch (error) {
        return [...((error as { issues?: string[] }).issues ?? [String(error)])];
      }
    };

    it('refuses 20 checks reading 10 MiB bodies at 256 MB, saying how much memory they need', () => {
      vi.stubEnv('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '256');

      expect(problems(twenty({ bodyContains: 'ok' }))).toEqual([
        'hooks.*: its checks can hold 200 MiB of response bodies at once (c0 10 MiB, c1 10 MiB, c2 10 MiB, ...), which needs about 896 MB of function memory (4 bytes per body byte plus 96 MB for the runtime), more than the function’s 256 MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); lower maxBodyBytes, drop body expectations, or raise MemorySize'.replace(
          '’',
          "'",
        ),
      ]);
    });

    it('accepts them when no expectation reads the bodies, or when the function has the memory', () => {
      vi.stubEnv('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '256');
      expect(problems(twenty())).toEqual([]);
      vi.stubEnv('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '1024');
      expect(problems(twenty({ json: { status: 'ok' } }))).toEqual([]);
    });

    it('sums per hook, since only one hook’s checks run at once; compare holds two bodies, lambda-invoke 6 MiB', () => {
      vi.stubEnv('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '160');
      // (160 - 96) MiB / 4 = 16 MiB of bodies.
      const checks = {
        a: { type: 'http', url: 'https://green.example/a', maxBodyBytes: 8 * MiB, expect: { bodyContains: 'x' } },
        b: { type: 'http', url: 'https://green.example/b', maxBodyBytes: 8 * MiB, expect: { bodyContains: 'x' } },
        cmp: { type: 'compare', maxBodyBytes: 5 * MiB, expect: { bodyContains: 'x' } },
        fn: { type: 'lambda-invoke' },
      };
      // Each hook fits on its own (16, 14 and 16 MiB)...
      expect(
        problems(checks, {
          BeforeInstall: ['a', 'b'],
          AfterInstall: ['a', 'fn'],
          AfterAllowTestTraffic: ['cmp', 'fn'],
        }),
      ).toEqual([]);
      // ...three of them in one hook do not.
      expect(problems(checks, { AfterAllowTestTraffic: ['cmp', 'fn', 'a'] })).toEqual([
        expect.stringMatching(
          /^hooks\.AfterAllowTestTraffic: its checks can hold 24 MiB of response bodies at once \(cmp 10 MiB, a 8 MiB, fn 6 MiB\)/,
        ),
      ]);
    });
  });

  it('derives the budget from the function memory, keeping 96 MiB for the runtime', () => {
    expect(bodyBudgetBytes(256)).toBe(40 * MiB);
    expect(bodyBudgetBytes(128)).toBe(8 * MiB);
    expect(bodyBudgetBytes(64)).toBe(0);
    expect(functionMemoryMiB({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' })).toBe(1769);
    expect(functionMemoryMiB({})).toBe(256);
    expect(functionMemoryMiB({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots' })).toBe(256);
  });
});
