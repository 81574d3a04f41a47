import { randomUUID } from 'node:crypto';
import { codeDeployHooks } from '../../../lib/spec/hooks.ts';
import { ecsDeployment, startCodeDeployFake } from '../../../local/fakes/codedeploy.ts';
import { type Invocation, loadHandler } from '../functions.ts';
import type { StepLog } from '../progress.ts';
import { seedEcs } from '../signals.ts';
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
import type { StepResult } from '../types.ts';
import type { Driver, RehearsalContext } from './driver.ts';

const greenTaskSet = 'ecs-svc/2222222222222222222';

/** What CodeDeploy itself does just before a hook runs, in an ECS blue/green deployment. */
const before: Readonly<Record<string, { event: string; act: (c: RehearsalContext) => string }>> = {
  AfterInstall: {
    event: 'Install',
    act: () => 'CodeDeploy starts the green task set (v2) beside blue (v1)',
  },
  AfterAllowTestTraffic: {
    event: 'AllowTestTraffic',
    act: (c) => {
      c.service.route('test', 'green');
      return `test listener :${c.service.testListenerPort} now routes to green`;
    },
  },
  AfterAllowTraffic: {
    event: 'AllowTraffic',
    act: (c) => {
      c.service.route('prod', 'green');
      return `production listener :${c.service.prodListenerPort} now routes to green`;
    },
  },
};

/**
 * A CodeDeploy ECS blue/green deployment, hook by hook, through the real CodeDeployHookFunction:
 * for each hook the fake CodeDeploy shows that hook InProgress on the deployment target, the
 * function is invoked with `{DeploymentId, LifecycleEventHookExecutionId}`, and the status it
 * reported to the fake decides what CodeDeploy does next. The first Failed stops the deployment and
 * rolls traffic back to blue; the remaining hooks never run.
 */
export const codeDeployEcsDriver: Driver = {
  name: 'codedeploy-ecs',
  title: 'CodeDeploy ECS blue/green',
  async prepare(setup) {
    const codedeploy = await startCodeDeployFake();
    // The green task set ECS shows for the deployment (ecs-service, ecs-tasks read it).
    seedEcs(setup.ecs, setup.signals, { taskSet: greenTaskSet, cluster: 'rehearsal', service: 'demo' });
    return {
      endpoints: { AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url },
      notes: [`CodeDeploy         ${codedeploy.url}  (the project's fake: moto_server has no lifecycle-hook APIs)`],
      close: () => codedeploy.close(),

      async run(c) {
        const { out, service, loadBalancer, progress } = c;
        const handler = await loadHandler('CodeDeployHookFunction', c.environment);
        const deploymentId = codeDeployId();
        service.route('prod', 'blue');
        service.route('test', 'blue');
        flowHeader(
          out,
          codeDeployEcsDriver.title,
          `deployment ${deploymentId} · ${handler.logicalId} (${handler.entryPoint}), invoked in this process`,
        );

        const steps: StepResult[] = [];
        let failedAt: string | undefined;
        for (const hook of codeDeployHooks) {
          if (failedAt !== undefined) {
            steps.push(skipped(hook));
            continue;
          }
          const step = before[hook];
          if (step) deploymentEvent(out, step.event, step.act(c));
          codedeploy.addDeployment(
            ecsDeployment({
              deploymentId,
              hook,
              cluster: 'rehearsal',
              service: 'demo',
              testListenerArn: loadBalancer.testListenerArn,
              prodListenerArn: loadBalancer.prodListenerArn,
              taskSets: {
                blue: { targetGroup: targetGroupName(loadBalancer.blueTargetGroupArn) },
                green: { id: greenTaskSet, targetGroup: targetGroupName(loadBalancer.greenTargetGroupArn) },
              },
            }),
          );
          const executionId = randomUUID();
          stepHeader(out, hook, planHasChecks(c.plan, hook));
          progress.begin();
          service.newStep();
          const started = Date.now();
          const invocation = await handler.invoke({
            DeploymentId: deploymentId,
            LifecycleEventHookExecutionId: executionId,
          });
          const log = progress.end();
          const result = hookStep(hook, invocation, codedeploy.hookStatuses.get(executionId), log, started);
          steps.push(result);
          stepResult(out, result, 'CodeDeploy');
          if (result.status === 'Failed') failedAt = hook;
        }

        if (failedAt !== undefined) {
          service.route('prod', 'blue');
          service.route('test', 'blue');
          deploymentEvent(
            out,
            'rollback',
            `${failedAt} failed: CodeDeploy stops the deployment and routes all traffic back to blue`,
          );
          skippedSteps(
            out,
            steps.filter((s) => s.status === 'Skipped').map((s) => s.name),
          );
        } else {
          deploymentEvent(out, 'deployment succeeded', 'green serves production; CodeDeploy terminates blue');
        }
        const productionServes = await service.servingProduction();
        out.line(`  production listener serves: ${out.style('bold', productionServes)}`);
        return {
          driver: codeDeployEcsDriver.name,
          title: codeDeployEcsDriver.title,
          deployment: deploymentId,
          steps,
          rolledBack: failedAt !== undefined,
          // CodeDeploy runs no hooks while it rolls an ECS deployment back.
          rollbackSteps: [],
          productionServes,
        };
      },
    };
  },
};

/** The target group's name, from its ARN (`...:targetgroup/<name>/<id>`): what CodeDeploy's task sets name. */
function targetGroupName(arn: string): string {
  return arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn;
}

/**
 * One CodeDeploy hook as the rehearsal reports it: what the function reported (`reported`, absent when it
 * reported nothing), its reasons (the function's own, else its error, else what its log says), and what
 * its log recorded, from `started` (epoch ms) to now.
 */
export function hookStep(
  hook: string,
  invocation: Invocation,
  reported: string | undefined,
  log: StepLog,
  started: number,
): StepResult {
  const given = invocation.ok ? (invocation.result as { reasons?: unknown } | null)?.reasons : undefined;
  const reasons = invocation.ok
    ? Array.isArray(given)
      ? given.map(String)
      : []
    : [
        `the function threw ${invocation.error.name}: ${invocation.error.message} (CodeDeploy would wait up to an hour for a report)`,
      ];
  return {
    name: hook,
    status: reported === 'Succeeded' ? 'Succeeded' : 'Failed',
    ...(reported !== undefined ? { reported } : {}),
    reasons: reasons.length > 0 ? reasons : log.reasons,
    checks: log.checks,
    measurements: log.measurements,
    durationMs: Date.now() - started,
    invocations: 1,
  };
}
