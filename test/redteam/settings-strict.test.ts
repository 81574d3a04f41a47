import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkDeps } from '../../lib/aws/wiring.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import { parseResolveOverrides } from '../../lib/checks/resolve.ts';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { readBooleanSetting, SettingError } from '../../lib/runtime/settings.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

// Red team: GREENLIGHT_RESOLVE dropped entries it could not read (`lb.example`, `lb=not-an-ip`) and
// GREENLIGHT_PUBLISH_VERDICTS read anything but `false` as true: a typo silently meant something else.
// Every GREENLIGHT_* setting is now strict, and a bad one fails the verdict naming the variable,
// even for a hook whose plan entry lists no checks.

describe('GREENLIGHT_RESOLVE is read strictly', () => {
  it.each([
    ['lb.example', /is not host=address/],
    ['lb.example=', /is not host=address/],
    ['=127.0.0.1', /is not host=address/],
    ['lb.example=127.0.0.1=x', /is not host=address/],
    ['lb.example=localhost', /does not give an IP address/],
    ['lb.example=127.0.0.1,', /is not host=address/],
    ['http://lb.example=127.0.0.1', /does not name a host/],
    ['lb.example=127.0.0.1,LB.example.=127.0.0.2', /already pinned/],
  ])('refuses %j, naming the variable', (text, why) => {
    expect(() => parseResolveOverrides(text)).toThrow(SettingError);
    expect(() => parseResolveOverrides(text)).toThrow(/^GREENLIGHT_RESOLVE: expected host=address pairs/);
    expect(() => parseResolveOverrides(text)).toThrow(why);
  });

  it('reads pairs, blanks around them, IPv6 addresses, and a trailing dot as the same host', () => {
    const pins = parseResolveOverrides(' LB.example. = 127.0.0.1 , other.example=::1');
    expect([...pins]).toEqual([
      ['lb.example', '127.0.0.1'],
      ['other.example', '::1'],
    ]);
    expect(parseResolveOverrides(undefined).size).toBe(0);
    expect(parseResolveOverrides('  ').size).toBe(0);
  });
});

describe('GREENLIGHT_PUBLISH_VERDICTS is read strictly', () => {
  it.each(['no', '0', 'flase', 'off', 'yes'])('refuses %j, naming the variable', (text) => {
    expect(() => readBooleanSetting('GREENLIGHT_PUBLISH_VERDICTS', text, true)).toThrow(
      /^GREENLIGHT_PUBLISH_VERDICTS: expected true or false/,
    );
  });

  it('reads true, false (any case) and unset', () => {
    expect(readBooleanSetting('V', ' FALSE ', true)).toBe(false);
    expect(readBooleanSetting('V', 'True', false)).toBe(true);
    expect(readBooleanSetting('V', undefined, true)).toBe(true);
    expect(readBooleanSetting('V', '', false)).toBe(false);
  });
});

describe('building the checks throws the setting error, even with no checks to build', () => {
  it.each([
    ['GREENLIGHT_RESOLVE', 'lb.example'],
    ['GREENLIGHT_PUBLISH_VERDICTS', 'no'],
  ])('%s=%s', (variable, value) => {
    const deps = checkDeps({ [variable]: value });
    expect(() => buildRuns([], {}, deps)).toThrow(new RegExp(`^${variable}: expected`));
  });
});

const plan = `
version: 1
hooks:
  "*": []
checks: {}
`;

let h: Harness;
const sample = (path: string): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(path, 'utf8'));

// One harness for the file: the functions' SDK clients are made once per module, on its endpoints.
beforeAll(async () => {
  h = await startHarness('gl-strict');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe.each([
  ['GREENLIGHT_RESOLVE', 'lb.example=not-an-address'],
  ['GREENLIGHT_PUBLISH_VERDICTS', 'no'],
])('%s=%s fails every function closed on a hook mapped to [], naming the variable', (variable, value) => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env[variable];
  });

  afterAll(() => {
    if (saved === undefined) delete process.env[variable];
    else process.env[variable] = saved;
  });

  beforeEach(() => {
    clearPlanCache();
    process.env.GREENLIGHT_PLAN = plan;
    process.env[variable] = value;
    delete process.env.GREENLIGHT_REPORT_RESERVE;
    h.lambda.take();
  });

  const named = new RegExp(`${variable}: expected`);

  it('codedeploy-hook reports Failed', async () => {
    const id = h.codeDeployDeployment();
    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );
    expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
    expect(out.reasons.join('\n')).toMatch(named);
  });

  it('ecs-lifecycle-hook answers FAILED', async () => {
    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT'),
      lambdaContext(10_000),
    );
    expect(out.hookStatus).toBe('FAILED');
    expect(JSON.stringify(out.hookDetails)).toMatch(named);
  });

  it('ecs-pause-gate rolls back', async () => {
    const d = h.nativeDeployment();
    const { hookId, event } = h.ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });
    const out = await h.handlers.ecsPauseGate(event, lambdaContext(10_000));
    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons.join('\n')).toMatch(named);
    expect(h.ecs.decisions.get(hookId)?.action).toBe('ROLLBACK');
  });

  it('codedeploy-wait-gate stops the deployment', async () => {
    const id = h.codeDeployDeployment({ readyWaitMinutes: 60 });
    h.codedeploy.becomeReady(id);
    const e = sample('events/codedeploy-wait-gate/deployment-ready.json');
    const out = await h.handlers.codedeployWaitGate(
      { ...e, detail: { ...e.detail, deploymentId: id } },
      lambdaContext(10_000),
    );
    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out.reasons.join('\n')).toMatch(named);
  });

  it('proton-pipeline-guard cancels', async () => {
    const s = h.proton.addService(`strict-${variable.length}`, {
      deploymentStatus: 'IN_PROGRESS',
      deploymentId: 'dep-1',
    });
    const e = sample('events/proton-pipeline-guard/service-pipeline-in-progress.json');
    const out = await h.handlers.protonGuard(
      { ...e, detail: { ...e.detail, serviceName: s.name } },
      lambdaContext(10_000),
    );
    expect(out).toMatchObject({ verdict: 'fail' });
    expect(out.reasons.join('\n')).toMatch(named);
  });
});
