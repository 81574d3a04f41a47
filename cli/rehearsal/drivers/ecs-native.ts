import { setTimeout as sleep } from 'node:timers/promises';
import { ecsStages } from '../../../lib/spec/hooks.ts';
import { createBlueGreenRules, standInRules } from '../../../local/ecs-native-setup.ts';
import { lifecycleHookEvent, type NativeDeployment } from '../../../local/fakes/ecs.ts';
import { styled } from '../../render.ts';
import { type LocalHandler, loadHandler } from '../functions.ts';
import { seedEcs } from '../signals.ts';
import { deploymentEvent, flowHeader, planHasChecks, skipped, skippedSteps, stepHeader, stepResult } from '../steps.ts';
import type { StepResult } from '../types.ts';
import type { Driver, RehearsalContext } from './driver.ts';

/**
 * The ECS hook function's invocation timeout in the rehearsal, instead of the template's: short enough
 * that the probing stages' analyses do not fit in one invocation, so the rehearsal shows how greenlight
 * carries an analysis across invocations (IN_PROGRESS, callBackDelay, state in hookDetails).
 */
const rehearsalTimeoutSeconds = { normal: 4, fast: 2.5 };
/** ECS waits callBackDelay seconds (30 by default) before it calls again; the rehearsal waits at most this. */
const maxCallBackWaitMs = { normal: 250, fast: 100 };
/** A stage that answers IN_PROGRESS more often than this is a bug, not a long analysis. */
const maxInvocations = 20;

/** RECONCILE_SERVICE runs only when a deployment starts with more than one active revision. */
const stages = ecsStages.filter((s) => s !== 'RECONCILE_SERVICE');

/** What ECS itself does just before a stage's hook runs. */
const before: Readonly<Record<string, { event: string; act: (c: RehearsalContext) => string }>> = {
  POST_SCALE_UP: { event: 'SCALE_UP', act: () => 'ECS starts the target revision (green, v2) beside blue (v1)' },
  TEST_TRAFFIC_SHIFT: {
    event: 'test traffic shift',
    act: (c) => {
      c.service.route('test', 'green');
      return `the test listener rule (:${c.service.testListenerPort}) now forwards to green`;
    },
  },
  PRODUCTION_TRAFFIC_SHIFT: {
    event: 'production shift',
    act: (c) => {
      c.service.route('prod', 'green');
      return `the production listener rule (:${c.service.prodListenerPort}) now forwards to green`;
    },
  },
};

/**
 * An Amazon ECS native blue/green deployment, stage by stage, through the real ecs-lifecycle-hook
 * function: the fake ECS holds the service, its revisions and the deployment; the function is invoked
 * with the hook payload ECS sends, and is invoked again with the returned hookDetails for as long as
 * it answers IN_PROGRESS. The first FAILED rolls the deployment back: ECS runs the traffic-shift hooks
 * again with green at 0%, and greenlight must let them pass.
 */
export const ecsNativeDriver: Driver = {
  name: 'ecs-native',
  title: 'Amazon ECS native blue/green',
  async prepare(setup) {
    const { ecs } = setup;
    return {
      endpoints: {},
      notes: [],
      close: async () => undefined,

      async run(c) {
        const { out, service } = c;
        const timeoutSeconds = c.fast ? rehearsalTimeoutSeconds.fast : rehearsalTimeoutSeconds.normal;
        const handler = await loadHandler('EcsLifecycleHookFunction', c.environment, {
          timeoutSeconds,
          notInTemplate: {
            entryPoint: 'functions/ecs-lifecycle-hook/index.ts',
            functionName: 'greenlight-ecs-lifecycle-hook',
          },
        });
        const rules = setup.motoUrl
          ? await createBlueGreenRules(setup.motoUrl, c.loadBalancer)
          : standInRules(c.loadBalancer);
        const deployment = ecs.addNativeDeployment({
          cluster: 'rehearsal',
          service: 'demo',
          loadBalancer: {
            targetGroupArn: c.loadBalancer.blueTargetGroupArn,
            alternateTargetGroupArn: c.loadBalancer.greenTargetGroupArn,
            productionListenerRule: rules.productionListenerRule,
            testListenerRule: rules.testListenerRule,
          },
        });
        seedEcs(ecs, setup.signals, {
          serviceDeploymentArn: deployment.serviceDeploymentArn,
          cluster: 'rehearsal',
          service: 'demo',
          taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/demo:2',
        });
        service.route('prod', 'blue');
        service.route('test', 'blue');
        flowHeader(
          out,
          ecsNativeDriver.title,
          `deployment …/${deployment.serviceDeploymentArn.split('/').at(-1)} · ${describe(handler)}`,
        );
        out.line(
          `  ${out.style('dim', `invocation timeout cut to ${timeoutSeconds}s (template: ${handler.declaredTimeoutSeconds}s) so that analyses span invocations; ECS's callBackDelay is waited at most ${(c.fast ? maxCallBackWaitMs.fast : maxCallBackWaitMs.normal) / 1000}s`)}`,
        );

        const steps: StepResult[] = [];
        let failedAt: string | undefined;
        for (const stage of stages) {
          if (failedAt !== undefined) {
            steps.push(skipped(stage));
            continue;
          }
          const step = before[stage];
          if (step) deploymentEvent(out, step.event, step.act(c));
          stepHeader(out, stage, planHasChecks(c.plan, stage));
          service.newStep();
          const result = await runStage(c, handler, deployment, stage, weights(deployment, stage, 'forward'));
          steps.push(result);
          stepResult(out, result, 'ECS');
          if (result.status === 'Failed') failedAt = stage;
        }

        const rollbackSteps: StepResult[] = [];
        if (failedAt !== undefined) {
          deploymentEvent(out, 'rollback', `${failedAt} answered FAILED: ECS rolls the deployment back to blue`);
          skippedSteps(
            out,
            steps.filter((s) => s.status === 'Skipped').map((s) => s.name),
          );
          ecs.setDeploymentStatus(deployment.serviceDeploymentArn, 'ROLLBACK_IN_PROGRESS');
          for (const stage of ['TEST_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT'] as const) {
            service.route(stage === 'TEST_TRAFFIC_SHIFT' ? 'test' : 'prod', 'blue');
            stepHeader(out, `${stage} (rollback)`, true);
            out.line(`    ${out.style('dim', 'ECS runs this hook again while shifting traffic back: green at 0%')}`);
            const result = await runStage(c, handler, deployment, stage, weights(deployment, stage, 'back'));
            rollbackSteps.push({ ...result, name: `${stage} (rollback)` });
            stepResult(out, { ...result, name: `${stage} (rollback)` }, 'ECS');
          }
          ecs.setDeploymentStatus(deployment.serviceDeploymentArn, 'ROLLBACK_SUCCESSFUL');
        } else {
          deploymentEvent(
            out,
            'deployment succeeded',
            'green serves production; ECS drains blue (BAKE_TIME, CLEAN_UP)',
          );
          ecs.setDeploymentStatus(deployment.serviceDeploymentArn, 'SUCCESSFUL');
        }
        const productionServes = await service.servingProduction();
        out.line(`  production listener serves: ${out.style('bold', productionServes)}`);
        return {
          driver: ecsNativeDriver.name,
          title: ecsNativeDriver.title,
          deployment: deployment.serviceDeploymentArn,
          steps,
          rolledBack: failedAt !== undefined,
          rollbackSteps,
          productionServes,
        };
      },
    };
  },
};

/** One stage: invoked until it answers SUCCEEDED or FAILED, with the hookDetails of each IN_PROGRESS. */
async function runStage(
  c: RehearsalContext,
  handler: LocalHandler,
  deployment: NativeDeployment,
  stage: string,
  trafficWeights: { testTrafficWeights?: Record<string, number>; productionTrafficWeights?: Record<string, number> },
): Promise<StepResult> {
  const { out, progress } = c;
  const first = lifecycleHookEvent(deployment, stage, trafficWeights);
  const started = Date.now();
  progress.begin();
  let event: Record<string, unknown> = first;
  let invocations = 0;
  let answer: { hookStatus?: unknown; callBackDelay?: unknown; hookDetails?: unknown } | undefined;
  let thrown: Error | undefined;
  while (invocations < maxInvocations) {
    invocations++;
    const invocation = await handler.invoke(event);
    if (!invocation.ok) {
      thrown = invocation.error;
      break;
    }
    answer = (invocation.result ?? {}) as typeof answer;
    if (answer?.hookStatus !== 'IN_PROGRESS') break;
    const delay = typeof answer.callBackDelay === 'number' ? answer.callBackDelay : 30;
    const wait = Math.min(delay * 1000, c.fast ? maxCallBackWaitMs.fast : maxCallBackWaitMs.normal);
    out.line(
      `    ${styled(out, 'IN_PROGRESS')} callBackDelay ${delay}s, state in hookDetails: ECS calls again (here after ${wait / 1000}s)`,
    );
    await sleep(wait);
    // ECS sends back the hookDetails of the IN_PROGRESS answer.
    event = { ...first, ...(answer.hookDetails ? { hookDetails: answer.hookDetails } : {}) };
  }
  const log = progress.end();
  const status = answer?.hookStatus;
  const result = (answer?.hookDetails as { greenlightResult?: { reasons?: unknown } } | undefined)?.greenlightResult;
  const reasons = thrown
    ? [`the function threw ${thrown.name}: ${thrown.message} (ECS rolls back on an error)`]
    : status === 'IN_PROGRESS'
      ? [`still IN_PROGRESS after ${invocations} invocations`]
      : Array.isArray(result?.reasons)
        ? result.reasons.map(String)
        : log.reasons;
  return {
    name: stage,
    status: status === 'SUCCEEDED' ? 'Succeeded' : 'Failed',
    ...(typeof status === 'string' ? { reported: status } : {}),
    reasons,
    checks: log.checks,
    measurements: log.measurements,
    durationMs: Date.now() - started,
    invocations,
  };
}

/** The traffic weights ECS puts in the hook payload of a traffic-shift stage, going forward or rolling back. */
function weights(deployment: NativeDeployment, stage: string, direction: 'forward' | 'back') {
  const target = direction === 'forward' ? 100 : 0;
  const split = {
    [deployment.targetServiceRevisionArn]: target,
    [deployment.sourceServiceRevisionArn]: 100 - target,
  };
  if (stage === 'TEST_TRAFFIC_SHIFT') return { testTrafficWeights: split };
  if (stage === 'PRODUCTION_TRAFFIC_SHIFT') return { productionTrafficWeights: split };
  return {};
}

function describe(handler: LocalHandler): string {
  return handler.inTemplate
    ? `${handler.logicalId} (${handler.entryPoint}), invoked in this process`
    : `${handler.entryPoint} (not in template.yaml yet), invoked in this process`;
}
