import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPlanCache } from '../../lib/plan/load.ts';
import { deadlineFor } from '../../lib/runtime/deadline.ts';
import { durationSettings, readDurationSetting, SettingError } from '../../lib/runtime/settings.ts';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { lambdaContext } from '../support/lambda-context.ts';

/**
 * Every duration setting read from the environment has a floor and a ceiling; a value out of range or not a
 * duration is a configuration error that fails the verdict, naming the variable, and the verdict is still delivered.
 */

describe('duration settings', () => {
  const cases = Object.values(durationSettings).flatMap((s) => [
    [s.variable, '0s'],
    [s.variable, `${s.minMs - 1}ms`],
    [s.variable, `${s.maxMs + 1}ms`],
    [s.variable, 'soon'],
    [s.variable, '-5s'],
    [s.variable, '5'],
  ]);

  it.each(cases)('refuses %s=%s, naming the variable and its range', (variable, text) => {
    const setting = Object.values(durationSettings).find((s) => s.variable === variable);
    if (!setting) throw new Error(`no setting ${variable}`);

    expect(() => readDurationSetting(setting, text)).toThrow(SettingError);
    expect(() => readDurationSetting(setting, text)).toThrow(new RegExp(`^${variable}: expected a duration from `));
  });

  it.each(Object.values(durationSettings))(
    'accepts $variable at its floor and ceiling, and defaults when unset',
    (s) => {
      expect(readDurationSetting(s, `${s.minMs}ms`)).toBe(s.minMs);
      expect(readDurationSetting(s, `${s.maxMs}ms`)).toBe(s.maxMs);
      expect(readDurationSetting(s, undefined)).toBe(s.defaultMs);
      expect(readDurationSetting(s, '  ')).toBe(s.defaultMs);
    },
  );

  it('does not echo more than 40 characters of a bad value', () => {
    expect(() => readDurationSetting(durationSettings.reserve, 'x'.repeat(500))).toThrow(/"x{40}…"$/);
  });

  it('keeps the default reserve for the report and returns the error when GREENLIGHT_REPORT_RESERVE=0s', () => {
    const d = deadlineFor({ getRemainingTimeInMillis: () => 60_000 }, 0, '0s');
    d.dispose();

    expect(d.settingError?.variable).toBe('GREENLIGHT_REPORT_RESERVE');
    expect(d).toMatchObject({ analysisEndsAt: 55_000, reportBy: 59_750 });
  });
});

const plan = `
version: 1
hooks:
  "*": [green-health]
checks:
  green-health:
    type: http
    url: "{{testListenerUrl}}/health"
    count: 1
`;

let h: Harness;
const sample = (path: string): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(path, 'utf8'));

describe('a setting out of range fails every function closed, naming the variable, and the verdict is delivered', () => {
  beforeAll(async () => {
    h = await startHarness('gl-settings');
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    clearPlanCache();
    process.env.GREENLIGHT_PLAN = plan;
    process.env.GREENLIGHT_REPORT_RESERVE = '0s';
    delete process.env.GREENLIGHT_WAIT_POLL_INTERVAL;
    delete process.env.GREENLIGHT_WAIT_WATCH_LIMIT;
    h.green.respond((_req, res) => res.end('ok'));
    h.green.hits.length = 0;
    h.lambda.take();
  });

  it('codedeploy-hook reports Failed', async () => {
    const id = h.codeDeployDeployment();
    const out = await h.handlers.codedeployHook(
      { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` },
      lambdaContext(10_000),
    );

    expect(out).toMatchObject({ status: 'Failed', delivery: 'reported' });
    expect(out.reasons.join('\n')).toMatch(/^GREENLIGHT_REPORT_RESERVE: expected a duration from 100ms to 15m/);
    expect(h.codedeploy.hookStatuses.get(`exec-${id}`)).toBe('Failed');
    expect(h.green.hits).toHaveLength(0);
  });

  it('ecs-lifecycle-hook answers FAILED', async () => {
    const out = await h.handlers.ecsLifecycleHook(
      lifecycleHookEvent(h.nativeDeployment(), 'POST_TEST_TRAFFIC_SHIFT'),
      lambdaContext(10_000),
    );

    expect(out.hookStatus).toBe('FAILED');
    expect(JSON.stringify(out.hookDetails)).toMatch(/GREENLIGHT_REPORT_RESERVE: expected a duration/);
    expect(h.green.hits).toHaveLength(0);
  });

  it('ecs-pause-gate rolls back a hook that awaits action', async () => {
    const d = h.nativeDeployment();
    const { hookId, event } = h.ecs.addPauseHook(d.serviceDeploymentArn, { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' });

    const out = await h.handlers.ecsPauseGate(event, lambdaContext(10_000));

    expect(out).toMatchObject({ outcome: 'decided', action: 'ROLLBACK' });
    expect(out.reasons[0]).toMatch(/^GREENLIGHT_REPORT_RESERVE: expected a duration/);
    expect(h.ecs.decisions.get(hookId)?.action).toBe('ROLLBACK');
  });

  it('codedeploy-wait-gate stops a ready deployment with rollback', async () => {
    const id = h.codeDeployDeployment({ readyWaitMinutes: 60 });
    h.codedeploy.becomeReady(id);
    const e = sample('events/codedeploy-wait-gate/deployment-ready.json');

    const out = await h.handlers.codedeployWaitGate(
      { ...e, detail: { ...e.detail, deploymentId: id } },
      lambdaContext(10_000),
    );

    expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
    expect(out.reasons[0]).toMatch(/^GREENLIGHT_REPORT_RESERVE: expected a duration/);
  });

  it.each([
    ['GREENLIGHT_WAIT_POLL_INTERVAL', '0s'],
    ['GREENLIGHT_WAIT_POLL_INTERVAL', 'often'],
    ['GREENLIGHT_WAIT_WATCH_LIMIT', '30s'],
    ['GREENLIGHT_WAIT_WATCH_LIMIT', '30d'],
  ])(
    'codedeploy-wait-gate stops, rather than leave the termination wait ungated, with %s=%s',
    async (variable, value) => {
      process.env.GREENLIGHT_REPORT_RESERVE = '1s';
      process.env[variable] = value;
      const id = h.codeDeployDeployment({ terminationWaitMinutes: 60 });
      const e = sample('events/codedeploy-wait-gate/deployment-start.json');

      const out = await h.handlers.codedeployWaitGate(
        { ...e, detail: { ...e.detail, deploymentId: id } },
        lambdaContext(10_000),
      );

      expect(out).toMatchObject({ verdict: 'fail', result: 'stopping' });
      expect(out.reasons[0]).toMatch(new RegExp(`^${variable}: expected a duration from`));
      expect(h.codedeploy.callsOf('StopDeployment').filter((c) => c.input.deploymentId === id)).toHaveLength(1);
      expect(h.lambda.take()).toHaveLength(0);
    },
  );

  it('proton-pipeline-guard cancels the pipeline deployment', async () => {
    const s = h.proton.addService('settings-svc', { deploymentStatus: 'IN_PROGRESS', deploymentId: 'dep-1' });
    const e = sample('events/proton-pipeline-guard/service-pipeline-in-progress.json');

    const out = await h.handlers.protonGuard(
      { ...e, detail: { ...e.detail, serviceName: s.name } },
      lambdaContext(10_000),
    );

    expect(out).toMatchObject({ verdict: 'fail' });
    expect(out.reasons.join('\n')).toMatch(/GREENLIGHT_REPORT_RESERVE: expected a duration/);
    expect(h.proton.callsOf('CancelServicePipelineDeployment')).toHaveLength(1);
  });
});
