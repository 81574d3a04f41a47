import { describe, expect, it } from 'vitest';
import { threeServices } from '../../cli/rehearsal/three-services.ts';
import type { FlowResult } from '../../cli/rehearsal/types.ts';
import { greenlight, run } from './run-cli.ts';

interface Doc {
  scenario: string;
  asExpected: boolean;
  exitCode: number;
  flows: (FlowResult & { plan?: string })[];
}

const prefix = '/greenlight/plans/';

describe('greenlight rehearse --scenario three-services (one greenlight, a plan library)', () => {
  it('gives the CodeDeploy ECS, the ECS native PAUSE and the SAM deployment each its own plan; leaves a PAUSE hook without one alone', async () => {
    const r = await run(
      'npm',
      ['start', '--silent', '--', '--scenario', 'three-services', '--fast', '--no-moto', '--json'],
      {
        timeoutMs: 60_000,
      },
    );

    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc).toMatchObject({ scenario: 'three-services', asExpected: true, exitCode: 0 });
    const byDriver = new Map(doc.flows.map((f) => [f.driver, f]));
    const verdicts = (f: FlowResult | undefined) => f?.steps.map((s) => [s.name, s.status, s.reported]);
    const checks = (f: FlowResult | undefined) => [...new Set(f?.steps.flatMap((s) => s.checks.map((c) => c.name)))];
    // web: routed by its CodeDeploy application and group; its plan includes the shared set and sets its variable.
    const web = byDriver.get('codedeploy-ecs');
    expect(web?.plan).toBe(`${prefix}codedeploy/AppECS-rehearsal-web/DgpECS-rehearsal-web`);
    expect(verdicts(web)?.every(([, status, reported]) => status === 'Succeeded' && reported === 'Succeeded')).toBe(
      true,
    );
    expect(checks(web)).toEqual(['runs-expected-version', 'test-health', 'web-prod-health']);
    // api: an ECS native deployment paused by a PAUSE hook, routed by cluster and service; the gate continues it.
    const api = byDriver.get('ecs-native-pause');
    expect(api?.plan).toBe(`${prefix}ecs/rehearsal/api`);
    expect(verdicts(api)).toEqual([['POST_TEST_TRAFFIC_SHIFT (PAUSE)', 'Succeeded', 'CONTINUE']]);
    expect(checks(api)).toEqual(['api-health']);
    // orders-fn: a SAM function's hooks, routed by the function's name (its CodeDeploy key has no plan).
    const orders = byDriver.get('sam-lambda');
    expect(orders?.plan).toBe(`${prefix}lambda/orders-fn`);
    expect(verdicts(orders)).toEqual([
      ['BeforeAllowTraffic', 'Succeeded', 'Succeeded'],
      ['AfterAllowTraffic', 'Succeeded', 'Succeeded'],
    ]);
    expect(checks(orders)).toEqual(['orders-smoke']);
    // batch: no plan, no fallback: no ContinueServiceDeployment, a logged no-op naming where it looked.
    const batch = byDriver.get('no-plan-pause');
    expect(batch?.plan).toBeUndefined();
    expect(verdicts(batch)).toEqual([['POST_TEST_TRAFFIC_SHIFT (PAUSE)', 'Skipped', undefined]]);
    expect(batch?.steps[0]?.reasons.join()).toContain(`looked for ${prefix}ecs/rehearsal/batch`);
    // The human view on stderr (--json) says per deployment which plan parameter it got.
    expect(r.stderr).toMatch(/plan parameter: \/greenlight\/plans\/ecs\/rehearsal\/api/);
    expect(r.stderr).toMatch(/left alone\s+the hook still awaits action/);
  }, 60_000);

  it("fails the scenario's check for a deployment that got another service's plan, or none", () => {
    const flow = (driver: string, plan: string | undefined, check: string): FlowResult => ({
      driver,
      title: driver,
      deployment: 'd-1',
      rolledBack: false,
      rollbackSteps: [],
      productionServes: 'green',
      ...(plan === undefined ? {} : { plan }),
      steps: [
        {
          name: 'POST_TEST_TRAFFIC_SHIFT (PAUSE)',
          status: 'Succeeded',
          reasons: [],
          checks: [
            { name: check, kind: 'http', status: 'pass', dryRun: false, taken: 1, failures: 0, errors: 0, reason: '' },
          ],
          measurements: [],
          durationMs: 1,
          invocations: 1,
        },
      ],
    });
    const plan = { version: 1 as const, hooks: {}, checks: {} };

    expect(threeServices.check(flow('ecs-native-pause', `${prefix}ecs/rehearsal/api`, 'api-health'), plan)).toEqual([]);
    expect(threeServices.check(flow('ecs-native-pause', `${prefix}lambda/orders-fn`, 'orders-smoke'), plan)).toEqual([
      `got plan ${prefix}lambda/orders-fn, expected ${prefix}ecs/rehearsal/api`,
      "its plan's checks did not run: api-health",
      'ran checks of another plan: orders-smoke',
    ]);
    expect(threeServices.check(flow('no-plan-pause', `${prefix}ecs/rehearsal/api`, 'api-health'), plan)).toContain(
      `got plan ${prefix}ecs/rehearsal/api, expected none`,
    );
  });

  it('refuses --plan for a scenario whose plans are in its plan library (exit 2)', async () => {
    const r = await greenlight(['rehearse', '--scenario', 'three-services', '--plan', 'cli/rehearsal/plan.yaml'], {
      timeoutMs: 30_000,
    });

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plan does not apply to three-services/);
  }, 30_000);
});
