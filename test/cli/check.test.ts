import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { greenlight } from './run-cli.ts';

const plan = `
version: 1
allow: { addresses: [loopback] }
hooks:
  AfterAllowTestTraffic: [green-health, green-api]
  BeforeInstall: []
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health?token=query-secret"
    headers: { authorization: "Bearer header-secret" }
    count: 3
    interval: 100ms
  green-api:
    type: http
    url: "{{testListenerUrl}}/api"
    count: 2
    interval: 100ms
`;

let dir: string;
let target: HttpTarget;
let planFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'greenlight-check-'));
  planFile = join(dir, 'plan.yaml');
  await writeFile(planFile, plan);
  target = await startHttpTarget();
});

afterAll(async () => {
  await target?.close();
});

const args = (hook = 'AfterAllowTestTraffic') => [
  'check',
  '--plan',
  planFile,
  '--hook',
  hook,
  '--var',
  `testListenerUrl=${target.url}`,
];

describe('greenlight check', () => {
  it('passes with exit 0, printing each measurement and the verdict, when the endpoints are healthy', async () => {
    target.respond((_req, res) => res.end('ok'));

    const r = await greenlight(args());

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dry run: nothing is reported/);
    expect(r.stdout).toMatch(/green-health\s+3\/3\s+pass\s+GET http:\/\/127\.0\.0\.1:\d+\/health: 200/);
    expect(r.stdout).toMatch(/green-api\s+2\/2\s+pass/);
    expect(r.stdout).toMatch(/Verdict pass/);
  });

  it('fails with exit 1 at the first failing measurement and names the check and the status', async () => {
    target.respond((req, res) => {
      res.statusCode = req.url?.startsWith('/api') ? 503 : 200;
      res.end();
    });

    const r = await greenlight(args());

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Verdict fail/);
    expect(r.stdout).toMatch(/green-api: fail: .*status 503, expected 2xx/);
    expect(r.stdout).toMatch(/green-health\s+stopped/);
  });

  it('fails closed with exit 1 when the endpoint cannot be reached', async () => {
    const closed = await startHttpTarget();
    await closed.close();

    const r = await greenlight([
      'check',
      '--plan',
      planFile,
      '--hook',
      'AfterAllowTestTraffic',
      '--var',
      `testListenerUrl=${closed.url}`,
    ]);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/connection refused/);
    expect(r.stdout).not.toMatch(/Verdict pass/);
  });

  it('sends a host name to a local address with --resolve, like curl', async () => {
    target.respond((_req, res) => res.end('ok'));
    const url = target.url.replace('127.0.0.1', 'green.rehearsal.test');

    const r = await greenlight([
      'check',
      '--plan',
      planFile,
      '--hook',
      'AfterAllowTestTraffic',
      '--var',
      `testListenerUrl=${url}`,
      '--resolve',
      'green.rehearsal.test=127.0.0.1',
    ]);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GET http:\/\/green\.rehearsal\.test:\d+\/health: 200/);
  });

  it('never prints header values or query strings', async () => {
    target.respond((_req, res) => res.end('ok'));

    const human = await greenlight(args());
    const json = await greenlight([...args(), '--json']);

    for (const text of [human.stdout, human.stderr, json.stdout, json.stderr]) {
      expect(text).not.toContain('header-secret');
      expect(text).not.toContain('query-secret');
    }
  });

  it('prints one JSON document with the verdict and per-check results for CI', async () => {
    target.respond((req, res) => {
      res.statusCode = req.url?.startsWith('/api') ? 500 : 200;
      res.end();
    });

    const r = await greenlight([...args(), '--json']);

    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      dryRun: boolean;
      exitCode: number;
      verdict: { status: string; checks: { name: string; status: string; counters: { taken: number } }[] };
    };
    expect(doc).toMatchObject({ dryRun: true, exitCode: 1, verdict: { status: 'fail' } });
    expect(doc.verdict.checks.find((c) => c.name === 'green-api')).toMatchObject({
      status: 'fail',
      counters: { taken: 1 },
    });
    expect(r.stderr).toMatch(/green-api\s+1\/2\s+fail/);
  });

  it('passes a hook whose plan entry is an explicit empty list, without probing', async () => {
    target.hits.length = 0;

    const r = await greenlight(args('BeforeInstall'));

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no checks/);
    expect(target.hits).toHaveLength(0);
  });

  it('exits 2 naming the field when the plan is invalid', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, plan.replace('count: 3', 'count: -1'));

    const r = await greenlight(['check', '--plan', bad, '--hook', 'AfterAllowTestTraffic']);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checks\.green-health\.count: must be at least 1, got -1/);
    expect(r.stdout).not.toMatch(/pass/);
  });

  it('issue 11: runs the same entry for --hook PreTraffic and --hook BeforeAllowTraffic, as the function does', async () => {
    // Arrange: the plan names the hook by SAM's alias only
    const file = join(dir, 'alias.yaml');
    await writeFile(file, plan.replace('  BeforeInstall: []', '  PreTraffic: [green-api]'));
    target.respond((_req, res) => res.end('ok'));
    const run = (hook: string) =>
      greenlight(['check', '--plan', file, '--hook', hook, '--var', `testListenerUrl=${target.url}`, '--json']);

    // Act
    const [canonical, alias] = await Promise.all([run('BeforeAllowTraffic'), run('PreTraffic')]);

    // Assert
    for (const r of [canonical, alias]) {
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as { planKey: string; verdict: { checks: { name: string }[] } };
      expect(doc.planKey).toBe('PreTraffic');
      expect(doc.verdict.checks.map((c) => c.name)).toEqual(['green-api']);
    }
  });

  it('issue 11: exits 2 for a plan that maps a hook under its name and its SAM alias', async () => {
    // Arrange
    const file = join(dir, 'collision.yaml');
    await writeFile(
      file,
      plan.replace('  BeforeInstall: []', '  BeforeAllowTraffic: [green-health]\n  PreTraffic: [green-api]'),
    );

    // Act
    const r = await greenlight(['check', '--plan', file, '--hook', 'PreTraffic']);

    // Assert
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hooks\.PreTraffic: PreTraffic is SAM's name for BeforeAllowTraffic/);
  });

  it('issue 11: exits 2 for --hook toString or __proto__, never a TypeError', async () => {
    const runs = await Promise.all(
      ['toString', '__proto__'].map((hook) => greenlight(['check', '--plan', planFile, '--hook', hook])),
    );

    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown hook/);
      expect(r.stderr).not.toMatch(/TypeError/);
    }
  });

  it('exits 2 and says which --var is missing when a placeholder has no value', async () => {
    const r = await greenlight(['check', '--plan', planFile, '--hook', 'AfterAllowTestTraffic']);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checks\.green-health\.url: \{\{testListenerUrl\}\} has no value/);
    expect(r.stderr).toMatch(/--var testListenerUrl=/);
  });

  it('exits 2 for a hook the plan has no entry for, naming the keys it has', async () => {
    const r = await greenlight(args('AfterAllowTraffic'));

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no entry for AfterAllowTraffic .*plan has: AfterAllowTestTraffic, BeforeInstall/);
  });

  it('exits 2 on usage errors: no plan, an unknown hook, an unknown placeholder', async () => {
    const noPlan = await greenlight(['check', '--hook', 'AfterAllowTestTraffic']);
    const badHook = await greenlight(['check', '--plan', planFile, '--hook', 'AfterAlowTestTraffic']);
    const badVar = await greenlight(['check', '--plan', planFile, '--hook', 'BeforeInstall', '--var', 'testUrl=x']);

    expect([noPlan.code, badHook.code, badVar.code]).toEqual([2, 2, 2]);
    expect(noPlan.stderr).toMatch(/--plan FILE is required/);
    expect(badHook.stderr).toMatch(/unknown hook "AfterAlowTestTraffic"/);
    expect(badVar.stderr).toMatch(/--var testUrl: not a placeholder/);
  });

  it('explains itself with --help', async () => {
    const r = await greenlight(['check', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: greenlight check --plan FILE --hook NAME/);
    expect(r.stdout).toMatch(/exit codes: 0/);
  });
});
