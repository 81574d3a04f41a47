import type { CodeDeployDeployment, CodeDeployTarget } from '../aws/codedeploy.ts';
import type { ListenerPort } from '../aws/elbv2.ts';
import { errorMessage } from '../core/analyze.ts';
import { PlanError } from '../plan/errors.ts';
import type { DeploymentContext } from '../plan/placeholders.ts';

/**
 * The placeholders of a CodeDeploy deployment: application and group, the ECS target's cluster,
 * service, blue and green task sets and target groups, or the Lambda target's function, alias and
 * versions, and (only when `needed`) the test and production listeners' URLs from ELBv2.
 */
export async function resolveCodeDeployContext(
  deps: { readonly listeners: ListenerPort; readonly region?: string | undefined },
  on: {
    readonly deployment: CodeDeployDeployment;
    readonly target: CodeDeployTarget | undefined;
    readonly hook: string;
    readonly needed: ReadonlySet<string>;
  },
  signal: AbortSignal,
): Promise<DeploymentContext> {
  const { deployment, target, hook, needed } = on;
  const context: { -readonly [K in keyof DeploymentContext]: DeploymentContext[K] } = {
    hook,
    deploymentId: deployment.deploymentId,
    applicationName: deployment.applicationName,
    deploymentGroupName: deployment.deploymentGroupName,
    region: deps.region,
  };
  if (target) {
    const [cluster, service] = ecsNames(target);
    context.cluster = cluster;
    context.service = service;
    const green = pickTaskSet(target, 'Green');
    const blue = pickTaskSet(target, 'Blue');
    context.greenTaskSet = green?.id;
    context.blueTaskSet = blue?.id;
    context.greenTargetGroup = green?.targetGroup;
    context.blueTargetGroup = blue?.targetGroup;
    context.functionName = target.lambda?.functionName;
    context.alias = target.lambda?.alias;
    context.currentVersion = target.lambda?.currentVersion;
    context.targetVersion = target.lambda?.targetVersion;
  }
  const listener = async (name: 'testListenerUrl' | 'prodListenerUrl', arns: readonly string[]): Promise<void> => {
    if (!needed.has(name)) return;
    const arn = arns[0];
    if (arn === undefined) {
      throw new PlanError([
        `{{${name}}}: deployment ${deployment.deploymentId} has no ${name === 'testListenerUrl' ? 'test' : 'production'} listener in its load balancer info`,
      ]);
    }
    try {
      context[name] = await deps.listeners.listenerUrl(arn, signal);
    } catch (error) {
      throw new Error(
        `cannot resolve {{${name}}} from listener ${arn}: ${(error as Error).name}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  };
  await Promise.all([
    listener('testListenerUrl', deployment.testListenerArns),
    listener('prodListenerUrl', deployment.prodListenerArns),
  ]);
  return context;
}

/** `cluster:service` target ids, or the service ARN `.../service/cluster/service`. */
function ecsNames(target: CodeDeployTarget): [string | undefined, string | undefined] {
  if (target.type !== 'ECSTarget') return [undefined, undefined];
  const arn = target.targetArn?.match(/:service\/([^/]+)\/([^/]+)$/);
  if (arn) return [arn[1], arn[2]];
  const [cluster, service] = target.targetId.split(':');
  return [cluster || undefined, service || undefined];
}

/** Labels when CodeDeploy gives them; otherwise the original task set is PRIMARY and the replacement ACTIVE. */
function pickTaskSet(target: CodeDeployTarget, label: 'Blue' | 'Green') {
  const labelled = target.taskSets.find((s) => s.label === label);
  if (labelled) return labelled;
  if (target.taskSets.some((s) => s.label !== undefined)) return undefined;
  return target.taskSets.find((s) => s.status === (label === 'Blue' ? 'PRIMARY' : 'ACTIVE'));
}
