import { findPlan, type PlanLibrary } from '../../lib/plan/load.ts';
import { parseRoute } from '../../lib/plan/route.ts';
import type { Plan } from '../../lib/plan/schema.ts';
import { type JsonFake, startJsonFake } from '../../local/fakes/json-server.ts';
import type { Driver } from './drivers/driver.ts';
import { type FleetService, fleetDrivers } from './drivers/fleet.ts';
import type { Scenario } from './scenarios.ts';
import type { FlowResult } from './types.ts';

/**
 * A scenario that brings its own flows and a plan library instead of the built-in plan: the functions run
 * with GREENLIGHT_PLAN_PREFIX and no GREENLIGHT_PLAN, and find each deployment's plan in a local SSM.
 */
export interface ScenarioRig {
  readonly drivers: readonly Driver[];
  /** Puts the plans into a local SSM and says how the functions reach it. */
  library(options: { readonly fast: boolean }): Promise<RigLibrary>;
}

export interface RigLibrary {
  /** Every check of every plan in the library, for the live progress (each check's count) and the signals. */
  readonly plan: Plan;
  readonly raw: Record<string, unknown>;
  /** What the setup summary says the plan is. */
  readonly source: string;
  /** Over the functions' environment: GREENLIGHT_PLAN_PREFIX and the local SSM's endpoint. */
  readonly environment: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** The rig a scenario brings, if it brings one; the built-in scenarios use the built-in plan and flows. */
export function scenarioRig(scenario: Scenario): ScenarioRig | undefined {
  const rig = (scenario as Scenario & { readonly rig?: () => ScenarioRig }).rig;
  return rig?.();
}

export const planPrefix = '/greenlight/plans/';

const web: FleetService = {
  name: 'codedeploy-ecs',
  title: 'web: CodeDeploy ECS blue/green',
  planKey: 'codedeploy/AppECS-rehearsal-web/DgpECS-rehearsal-web',
  checks: ['runs-expected-version', 'test-health', 'web-prod-health'],
};
const api: FleetService = {
  name: 'ecs-native-pause',
  title: 'api: Amazon ECS native, PAUSE hook',
  planKey: 'ecs/rehearsal/api',
  checks: ['api-health'],
};
const orders = {
  name: 'sam-lambda',
  title: 'orders-fn: SAM function (CodeDeploy Lambda)',
  planKey: 'lambda/orders-fn',
  checks: ['orders-smoke'],
  functionName: 'orders-fn',
} as const satisfies FleetService & { functionName: string };
const unplanned: FleetService = {
  name: 'no-plan-pause',
  title: 'batch: Amazon ECS native, PAUSE hook, no plan',
  planKey: undefined,
  checks: [],
};
const services = [web, api, orders, unplanned];

/**
 * The plan library, as a team would keep it under the prefix: a shared check set, and one plan per service.
 * `web` includes the shared set and sets the variable it uses; `batch` has no plan.
 */
function libraryTexts(interval: string): ReadonlyMap<string, string> {
  const defaults = `defaults:\n  interval: ${interval}\n  timeout: 1s\n`;
  return new Map([
    [
      'shared/web-standard',
      `version: 1
description: team-wide checks for a web service behind a test listener
checks:
  runs-expected-version:
    description: green reports the version this release expects
    type: http
    url: "{{testListenerUrl}}/version"
    expect:
      status: [200]
      json: { version: "{{var.expectedVersion}}" }
  test-health:
    type: http
    url: "{{testListenerUrl}}/health"
    expect: { status: [200], json: { status: ok }, maxLatency: 300ms }
    count: 3
`,
    ],
    [
      web.planKey as string,
      `version: 1
description: web, deployed by CodeDeploy ECS blue/green
include: [web-standard]
variables:
  expectedVersion: green
${defaults}hooks:
  BeforeInstall: []
  AfterInstall: []
  AfterAllowTestTraffic: [runs-expected-version, test-health]
  BeforeAllowTraffic: []
  AfterAllowTraffic: [web-prod-health]
checks:
  web-prod-health:
    type: http
    url: "{{prodListenerUrl}}/health"
    expect: { status: [200], json: { status: ok, version: green } }
    count: 3
`,
    ],
    [
      api.planKey as string,
      `version: 1
description: api, an ECS native service paused after test traffic (PAUSE hook)
${defaults}hooks:
  POST_TEST_TRAFFIC_SHIFT: [api-health]
checks:
  api-health:
    type: http
    url: "{{testListenerUrl}}/health"
    expect: { status: [200], json: { status: ok } }
    count: 2
`,
    ],
    [
      orders.planKey,
      `version: 1
description: orders-fn, a SAM function (DeploymentPreference hooks)
${defaults}hooks:
  PreTraffic: [orders-smoke]
  PostTraffic: []
checks:
  orders-smoke:
    description: the new version answers a smoke invocation before the alias moves
    type: lambda-invoke
    functionName: orders-fn     # the default is "{{functionName}}"; the rehearsal's Lambda fake knows it by name
    payload: { path: /health }
    expect: { json: { ok: true } }
    count: 2
`,
    ],
  ]);
}

function rig(): ScenarioRig {
  const compiled = new Map<string, Plan>();
  return {
    drivers: fleetDrivers({ web, api, orders, unplanned, planOf: (key) => compiled.get(key), prefix: planPrefix }),
    async library({ fast }) {
      const texts = libraryTexts(fast ? '100ms' : '500ms');
      const library: PlanLibrary = {
        where: (key) => `${planPrefix}${key}`,
        read: async (keys) => new Map(keys.flatMap((k) => (texts.has(k) ? [[k, texts.get(k) as string]] : []))),
      };
      const refuse = (): Promise<string> => Promise.reject(new Error('the rehearsal keeps plans in its library'));
      // Each plan as the functions will compile it (includes and variables resolved): a mistake stops here.
      for (const s of services) {
        if (s.planKey === undefined) continue;
        const found = await findPlan(
          { prefix: planPrefix },
          { readFile: refuse, readParameter: refuse },
          undefined,
          parseRoute(s.planKey),
          library,
        );
        compiled.set(s.planKey, found.plan);
      }
      const ssm = await startPlanStore(
        new Map([...texts].map(([key, text]) => [`${planPrefix}${key}`, text] as const)),
      );
      const plans = [...compiled.values()];
      return {
        plan: {
          version: 1,
          hooks: {},
          checks: Object.assign({}, ...plans.map((p) => p.checks)) as Plan['checks'],
        },
        raw: {},
        source: `plan library ${planPrefix} (GREENLIGHT_PLAN_PREFIX, no GREENLIGHT_PLAN): ${[...texts.keys()].join(', ')}`,
        environment: { GREENLIGHT_PLAN_PREFIX: planPrefix, AWS_ENDPOINT_URL_SSM: ssm.url },
        close: () => ssm.close(),
      };
    },
  };
}

/** SSM Parameter Store's reads (GetParameters, as the functions read plans, and GetParameter) over `parameters`. */
async function startPlanStore(parameters: ReadonlyMap<string, string>): Promise<JsonFake> {
  const parameter = (name: string) => ({
    Name: name,
    Type: 'String',
    Value: parameters.get(name),
    Version: 1,
    ARN: `arn:aws:ssm:us-east-1:123456789012:parameter/${name.replace(/^\//, '')}`,
  });
  return startJsonFake({
    operations: {
      GetParameters: (input) => {
        const names = Array.isArray(input.Names) ? input.Names.map(String) : [];
        return {
          Parameters: names.filter((n) => parameters.has(n)).map(parameter),
          InvalidParameters: names.filter((n) => !parameters.has(n)),
        };
      },
      GetParameter: (input) => {
        const name = String(input.Name);
        if (!parameters.has(name)) {
          return Promise.reject(Object.assign(new Error(`${name} not found`), { name: 'ParameterNotFound' }));
        }
        return { Parameter: parameter(name) };
      },
    },
  });
}

/**
 * `--scenario three-services`: one greenlight configuration gates a CodeDeploy ECS service, an ECS native
 * service (PAUSE hook) and a SAM function, each with its own plan from the library, and leaves alone the
 * PAUSE hook of a fourth service that has none.
 */
export const threeServices: Scenario & { readonly rig: () => ScenarioRig } = {
  name: 'three-services',
  green: 'healthy',
  signals: 'healthy',
  shows: `One greenlight (GREENLIGHT_PLAN_PREFIX ${planPrefix}, no GREENLIGHT_PLAN) gates three services with three plans from a local SSM: web (CodeDeploy ECS; a shared check set and a variable), api (ECS native, PAUSE hook) and orders-fn (SAM function). batch's PAUSE hook has no plan: left alone.`,
  expected: 'each service gets its own plan and passes; the service without a plan is left alone',
  check: (flow) => threeServicesProblems(flow),
  rig,
};

/** Why a flow of the fleet did not get its own plan and verdict. */
function threeServicesProblems(flow: FlowResult): string[] {
  const service = services.find((s) => s.name === flow.driver);
  if (!service) return [`unexpected flow ${flow.driver}`];
  const problems: string[] = [];
  const expected = service.planKey === undefined ? undefined : `${planPrefix}${service.planKey}`;
  if (flow.plan !== expected) problems.push(`got plan ${flow.plan ?? 'none'}, expected ${expected ?? 'none'}`);
  const ran = new Set(flow.steps.flatMap((s) => s.checks.map((c) => c.name)));
  const missing = service.checks.filter((c) => !ran.has(c));
  const foreign = [...ran].filter((c) => !service.checks.includes(c));
  if (missing.length > 0) problems.push(`its plan's checks did not run: ${missing.join(', ')}`);
  if (foreign.length > 0) problems.push(`ran checks of another plan: ${foreign.join(', ')}`);
  if (service.planKey === undefined) {
    const step = flow.steps[0];
    if (step?.status !== 'Skipped' || step.reported !== undefined) {
      problems.push(`the gate acted on a hook without a plan (${step?.reported ?? step?.status ?? 'no step'})`);
    }
    if (!step?.reasons.some((r) => r.includes(`looked for ${planPrefix}ecs/rehearsal/batch`))) {
      problems.push('the no-op does not say where the plan was looked for');
    }
    return problems;
  }
  for (const s of flow.steps) {
    if (s.status !== 'Succeeded') problems.push(`${s.name} ${s.status.toLowerCase()}`);
  }
  if (flow.productionServes !== 'green') problems.push(`production serves ${flow.productionServes}, expected green`);
  return problems;
}
