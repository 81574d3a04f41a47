import { randomUUID } from 'node:crypto';
import type { Plan } from '../../../lib/plan/schema.ts';
import { createBlueGreenRules, standInRules } from '../../../local/ecs-native-setup.ts';
import {
  type CodeDeployFake,
  ecsDeployment,
  type FakeDeployment,
  lambdaDeployment,
  startCodeDeployFake,
} from '../../../local/fakes/codedeploy.ts';
import type { Version } from '../demo-service.ts';
import { type LocalHandler, loadHandler } from '../functions.ts';
import { captureLogs } from '../log-capture.ts';
import {
  codeDeployId,
  deploymentEvent,
  flowHeader,
  planHasChecks,
  skipped,
  skippedSteps,
  stepHeader,
  stepResult,
} from '../steps.ts';
import type { FlowResult, StepResult } from '../types.ts';
import { hookStep } from './codedeploy-ecs.ts';
import type { Driver, DriverSetup, PreparedDriver, RehearsalContext } from './driver.ts';

/**
 * The flows of a fleet rehearsal: several services, each deployed its own way, gated by one greenlight
 * configuration whose functions find each deployment's plan in a plan library (GREENLIGHT_PLAN_PREFIX).
 * Each flow records the plan parameter the function chose (its `plan for this deployment` log line).
 */

/** One service of the fleet: how it is deployed, and the plan key it should be routed to (none: no plan). */
export interface FleetService {
  /** The flow's name (`--flow`). */
  readonly name: string;
  readonly title: string;
  /** The library key its plan is kept under, relative to the prefix; undefined for a service without a plan. */
  readonly planKey: string | undefined;
  /** The checks its plan runs (its own and those it includes), to tell that it got its own plan. */
  readonly checks: readonly string[];
}

/** Where the fleet's flows find each service's compiled plan (to say which steps have checks). */
export type PlanOf = (key: string) => Plan | undefined;

/** The CodeDeploy fake the fleet's CodeDeploy flows share: the functions read one endpoint per service. */
interface Shared {
  codedeploy?: Promise<CodeDeployFake> | undefined;
  users: number;
}

const cluster = 'rehearsal';
const lambdaHooks = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;
const codeDeployEcsHooks = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/**
 * The fleet's flows, sharing one CodeDeploy fake (a CodeDeploy ECS service and a SAM function). The SAM
 * function's smoke invocation is answered by the rehearsal's Lambda fake (signals.ts), as the scenario has it.
 */
export function fleetDrivers(o: {
  readonly web: FleetService;
  readonly api: FleetService;
  readonly orders: FleetService & { readonly functionName: string };
  readonly unplanned: FleetService;
  readonly planOf: PlanOf;
  readonly prefix: string;
}): Driver[] {
  const shared: Shared = { users: 0 };
  const acquire = async () => {
    shared.users++;
    shared.codedeploy ??= startCodeDeployFake();
    const codedeploy = await shared.codedeploy;
    return {
      codedeploy,
      endpoints: { AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url },
      // Only the first flow to start it lists it in the setup summary.
      notes:
        shared.users === 1
          ? [`CodeDeploy         ${codedeploy.url}  (the project's fake: the CodeDeploy ECS and Lambda deployments)`]
          : [],
      async release() {
        if (--shared.users > 0) return;
        const fake = shared.codedeploy;
        shared.codedeploy = undefined;
        await (await fake)?.close();
      },
    };
  };

  const web: Driver = {
    name: o.web.name,
    title: o.web.title,
    async prepare() {
      const fakes = await acquire();
      return routed(o, o.web, {
        endpoints: fakes.endpoints,
        notes: fakes.notes,
        close: fakes.release,
        run: (c) =>
          codeDeployFlow(c, o.web, o.planOf, fakes.codedeploy, {
            hooks: codeDeployEcsHooks,
            service: 'ECS',
            deployment: (deploymentId, hook) =>
              ecsDeployment({
                deploymentId,
                hook,
                applicationName: 'AppECS-rehearsal-web',
                deploymentGroupName: 'DgpECS-rehearsal-web',
                cluster,
                service: 'web',
                testListenerArn: c.loadBalancer.testListenerArn,
                prodListenerArn: c.loadBalancer.prodListenerArn,
              }),
            before: {
              AfterInstall: ['Install', () => 'CodeDeploy starts the green task set (v2) beside blue (v1)'],
              AfterAllowTestTraffic: [
                'AllowTestTraffic',
                () => {
                  c.service.route('test', 'green');
                  return `test listener :${c.service.testListenerPort} now routes to green`;
                },
              ],
              AfterAllowTraffic: [
                'AllowTraffic',
                () => {
                  c.service.route('prod', 'green');
                  return `production listener :${c.service.prodListenerPort} now routes to green`;
                },
              ],
            },
            rollback: () => {
              c.service.route('prod', 'blue');
              c.service.route('test', 'blue');
              return 'CodeDeploy stops the deployment and routes all traffic back to blue';
            },
            serving: () => c.service.servingProduction(),
          }),
      });
    },
  };

  const orders: Driver = {
    name: o.orders.name,
    title: o.orders.title,
    async prepare() {
      const fakes = await acquire();
      let alias: Version = 'blue';
      return routed(o, o.orders, {
        endpoints: fakes.endpoints,
        notes: fakes.notes,
        close: fakes.release,
        run: (c) =>
          codeDeployFlow(c, o.orders, o.planOf, fakes.codedeploy, {
            hooks: lambdaHooks,
            service: 'Lambda',
            deployment: (deploymentId, hook) => {
              const d = lambdaDeployment({
                deploymentId,
                hook: hook as (typeof lambdaHooks)[number],
                functionName: o.orders.functionName,
                alias: 'live',
                currentVersion: '1',
                targetVersion: '2',
              });
              // As SAM names them (DeploymentPreference): the stack's application and the function's group.
              return {
                ...d,
                deploymentInfo: {
                  ...d.deploymentInfo,
                  applicationName: 'orders-ServerlessDeploymentApplication',
                  deploymentGroupName: 'orders-OrdersFunctionDeploymentGroup',
                },
              } satisfies FakeDeployment;
            },
            before: {
              BeforeAllowTraffic: [
                'PreTraffic',
                () => `version 2 of ${o.orders.functionName} is published; alias live still points at version 1`,
              ],
              AfterAllowTraffic: [
                'AllowTraffic',
                () => {
                  alias = 'green';
                  return 'CodeDeploy moves alias live to version 2 (SAM DeploymentPreference AllAtOnce)';
                },
              ],
            },
            rollback: () => {
              alias = 'blue';
              return 'CodeDeploy stops the deployment; alias live stays on (or goes back to) version 1';
            },
            serving: async () => alias,
          }),
      });
    },
  };

  const api: Driver = {
    name: o.api.name,
    title: o.api.title,
    async prepare(setup) {
      return routed(o, o.api, {
        endpoints: {},
        notes: [],
        close: async () => undefined,
        run: (c) => pauseFlow(c, setup, o.api, o.planOf, 'api', o.prefix),
      });
    },
  };

  const unplanned: Driver = {
    name: o.unplanned.name,
    title: o.unplanned.title,
    async prepare(setup) {
      return routed(o, o.unplanned, {
        endpoints: {},
        notes: [],
        close: async () => undefined,
        run: (c) => pauseFlow(c, setup, o.unplanned, o.planOf, 'batch', o.prefix),
      });
    },
  };

  return [web, api, orders, unplanned];
}

/**
 * Runs the flow with the functions' log lines routed to the rehearsal's progress as usual, and notes the
 * plan parameter each deployment got (`plan for this deployment`, planFrom), shown once per flow.
 */
function routed(o: { readonly prefix: string }, service: FleetService, prepared: PreparedDriver): PreparedDriver {
  return {
    ...prepared,
    async run(c) {
      const plans: string[] = [];
      const capture = captureLogs((record) => {
        if (record.message === 'plan for this deployment' && typeof record.planFrom === 'string') {
          if (!plans.includes(record.planFrom)) {
            plans.push(record.planFrom);
            const fallback = record.fallback === true ? ' (the fallback plan)' : '';
            c.out.line(`    ${c.out.style('cyan', 'plan')} ${record.planFrom}${fallback}`);
          }
        }
        c.progress.record(record);
      });
      let flow: FlowResult;
      try {
        flow = await prepared.run(c);
      } finally {
        capture.restore();
      }
      const expected = service.planKey === undefined ? 'none' : `${o.prefix}${service.planKey}`;
      c.out.line(`  plan parameter: ${c.out.style('bold', plans.join(', ') || 'none')}  (expected ${expected})`);
      return { ...flow, ...(plans.length > 0 ? { plan: plans.join(', ') } : {}) };
    },
  };
}

interface CodeDeployShape {
  readonly hooks: readonly string[];
  /** `ECS` or `Lambda`: which deployment CodeDeploy runs. */
  readonly service: string;
  deployment(deploymentId: string, hook: string): FakeDeployment;
  /** What CodeDeploy does just before a hook: the lifecycle event's name and what it did. */
  readonly before: Readonly<Record<string, readonly [string, () => string]>>;
  rollback(): string;
  serving(): Promise<Version | 'unknown'>;
}

/**
 * A CodeDeploy deployment (ECS blue/green or Lambda), hook by hook, through the real CodeDeployHookFunction,
 * as drivers/codedeploy-ecs.ts drives the built-in one: the first Failed stops it and the rest never run.
 */
async function codeDeployFlow(
  c: RehearsalContext,
  service: FleetService,
  planOf: PlanOf,
  codedeploy: CodeDeployFake,
  shape: CodeDeployShape,
): Promise<FlowResult> {
  const { out, progress } = c;
  const handler = await loadHandler('CodeDeployHookFunction', c.environment);
  const deploymentId = codeDeployId();
  const plan = service.planKey === undefined ? undefined : planOf(service.planKey);
  c.service.route('prod', 'blue');
  c.service.route('test', 'blue');
  flowHeader(out, service.title, `CodeDeploy ${shape.service} deployment ${deploymentId} · ${describe(handler)}`);
  const steps: StepResult[] = [];
  let failedAt: string | undefined;
  for (const hook of shape.hooks) {
    if (failedAt !== undefined) {
      steps.push(skipped(hook));
      continue;
    }
    const before = shape.before[hook];
    if (before) deploymentEvent(out, before[0], before[1]());
    codedeploy.addDeployment(shape.deployment(deploymentId, hook));
    const executionId = randomUUID();
    stepHeader(out, hook, plan ? planHasChecks(plan, hook) : false);
    progress.begin();
    c.service.newStep();
    const started = Date.now();
    const invocation = await handler.invoke({ DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId });
    const log = progress.end();
    const result = hookStep(hook, invocation, codedeploy.hookStatuses.get(executionId), log, started);
    steps.push(result);
    stepResult(out, result, 'CodeDeploy');
    if (result.status === 'Failed') failedAt = hook;
  }
  if (failedAt !== undefined) {
    deploymentEvent(out, 'rollback', `${failedAt} failed: ${shape.rollback()}`);
    skippedSteps(
      out,
      steps.filter((s) => s.status === 'Skipped').map((s) => s.name),
    );
  } else {
    deploymentEvent(out, 'deployment succeeded', 'the new version serves production');
  }
  const productionServes = await shape.serving();
  out.line(`  production serves: ${out.style('bold', productionServes)}`);
  return {
    driver: service.name,
    title: service.title,
    deployment: deploymentId,
    steps,
    rolledBack: failedAt !== undefined,
    rollbackSteps: [],
    productionServes,
  };
}

/** The stage an ECS native deployment of the fleet pauses at, with a PAUSE lifecycle hook. */
const pauseStage = 'POST_TEST_TRAFFIC_SHIFT';

/**
 * An Amazon ECS native blue/green deployment of `name` that pauses at POST_TEST_TRAFFIC_SHIFT with a
 * PAUSE hook: ECS emits `HOOK_AWAITING_ACTION`, EventBridge invokes the real EcsPauseGateFunction, and
 * the gate answers ContinueServiceDeployment CONTINUE or ROLLBACK, or, for a service without a plan,
 * nothing at all (a logged no-op: the hook is someone else's).
 */
async function pauseFlow(
  c: RehearsalContext,
  setup: DriverSetup,
  service: FleetService,
  planOf: PlanOf,
  name: string,
  prefix: string,
): Promise<FlowResult> {
  const { out, progress, service: demo } = c;
  const { ecs } = setup;
  const handler = await loadHandler('EcsPauseGateFunction', c.environment);
  const plan = service.planKey === undefined ? undefined : planOf(service.planKey);
  // Only a service greenlight probes needs its listener rules (ECS's advancedConfiguration names them).
  const rules = plan
    ? setup.motoUrl
      ? await createBlueGreenRules(setup.motoUrl, c.loadBalancer)
      : standInRules(c.loadBalancer)
    : undefined;
  const deployment = ecs.addNativeDeployment({
    cluster,
    service: name,
    ...(rules
      ? {
          loadBalancer: {
            targetGroupArn: c.loadBalancer.blueTargetGroupArn,
            alternateTargetGroupArn: c.loadBalancer.greenTargetGroupArn,
            productionListenerRule: rules.productionListenerRule,
            testListenerRule: rules.testListenerRule,
          },
        }
      : {}),
  });
  demo.route('prod', 'blue');
  demo.route('test', 'blue');
  flowHeader(
    out,
    service.title,
    `deployment …/${deployment.serviceDeploymentArn.split('/').at(-1)} · ${describe(handler)}`,
  );
  deploymentEvent(out, 'SCALE_UP', `ECS starts ${name}'s target revision (v2) beside the source (v1)`);
  if (plan) {
    demo.route('test', 'green');
    deploymentEvent(
      out,
      'test traffic shift',
      `the test listener rule (:${demo.testListenerPort}) now forwards to green`,
    );
  } else {
    deploymentEvent(out, 'test traffic shift', 'the test listener rule now forwards to the target revision');
  }
  const { hookId, event } = ecs.addPauseHook(deployment.serviceDeploymentArn, {
    lifecycleStage: pauseStage,
    timeoutAction: 'ROLLBACK',
  });
  deploymentEvent(
    out,
    'PAUSE hook',
    `${pauseStage}: ECS emits HOOK_AWAITING_ACTION; EventBridge invokes the pause gate`,
  );
  const stepName = `${pauseStage} (PAUSE)`;
  stepHeader(out, stepName, plan ? planHasChecks(plan, pauseStage) : true);
  progress.begin();
  demo.newStep();
  const started = Date.now();
  const invocation = await handler.invoke(event);
  const log = progress.end();
  const answer = (invocation.ok ? invocation.result : {}) as { outcome?: string; reasons?: unknown };
  const answered = Array.isArray(answer.reasons) ? answer.reasons.map(String) : [];
  const decision = ecs.decisions.get(hookId)?.action;
  const awaiting = (
    (ecs.serviceDeployment(deployment.serviceDeploymentArn)?.lifecycleHookDetails ?? []) as {
      hookId?: string;
      status?: string;
    }[]
  ).some((h) => h.hookId === hookId && h.status === 'AWAITING_ACTION');
  const reasons = invocation.ok
    ? answered.length > 0
      ? answered
      : log.reasons
    : [`the function threw ${invocation.error.name}: ${invocation.error.message}`];
  const leftAlone = invocation.ok && answer.outcome === 'no-op' && decision === undefined && awaiting;
  const result: StepResult = {
    name: stepName,
    // Left alone is neither a pass nor a failure: the gate took no decision on someone else's hook.
    status: leftAlone ? 'Skipped' : decision === 'CONTINUE' ? 'Succeeded' : 'Failed',
    ...(decision !== undefined ? { reported: decision } : {}),
    reasons,
    checks: log.checks,
    measurements: log.measurements,
    durationMs: Date.now() - started,
    invocations: 1,
  };
  stepResult(out, result, 'ECS (ContinueServiceDeployment)');
  let rolledBack = false;
  let productionServes: Version | 'unknown' = 'blue';
  if (leftAlone) {
    for (const reason of reasons) out.line(`      ${out.style('dim', '·')} ${reason}`);
    deploymentEvent(
      out,
      'left alone',
      `the hook still awaits action: not greenlight's (no plan under ${prefix}); its owner decides, else ECS applies its timeoutAction at expiry`,
    );
  } else if (decision === 'CONTINUE') {
    demo.route('prod', 'green');
    deploymentEvent(
      out,
      'production shift',
      `the production listener rule (:${demo.prodListenerPort}) now forwards to green`,
    );
    ecs.setDeploymentStatus(deployment.serviceDeploymentArn, 'SUCCESSFUL');
    productionServes = await demo.servingProduction();
  } else {
    rolledBack = true;
    demo.route('test', 'blue');
    deploymentEvent(
      out,
      'rollback',
      `the gate answered ${decision ?? 'nothing'}: ECS rolls the deployment back to blue`,
    );
    ecs.setDeploymentStatus(deployment.serviceDeploymentArn, 'ROLLBACK_SUCCESSFUL');
    productionServes = plan ? await demo.servingProduction() : 'blue';
  }
  out.line(`  production serves: ${out.style('bold', productionServes)}`);
  return {
    driver: service.name,
    title: service.title,
    deployment: deployment.serviceDeploymentArn,
    steps: [result],
    rolledBack,
    rollbackSteps: [],
    productionServes,
  };
}

function describe(handler: LocalHandler): string {
  return `${handler.logicalId} (${handler.entryPoint}), invoked in this process`;
}
