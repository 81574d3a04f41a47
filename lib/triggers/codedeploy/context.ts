import type { CodeDeployDeployment, CodeDeployTarget } from '../../aws/codedeploy.ts';
import type { ListenerPort } from '../../aws/elbv2.ts';
import type { TaskDefinitionPort } from '../../aws/task-definitions.ts';
import type { TaskSetOriginPort } from '../../aws/task-sets.ts';
import { errorMessage } from '../../core/analyze.ts';
import { ecsServiceNames } from '../../spec/arn.ts';
import { PlanError } from '../../spec/errors.ts';
import type { DeploymentContext } from '../../spec/placeholders.ts';
import { greenTaskDefinitionContext, needsGreenTaskDefinition } from '../green-images.ts';
import { type AppSpecFacts, readAppSpec } from './appspec.ts';
import { GreenIdentityError, taskSetRoles } from './green-identity.ts';

const taskSetPlaceholders = ['greenTaskSet', 'blueTaskSet', 'greenTargetGroup', 'blueTargetGroup'] as const;

/**
 * The placeholders of a CodeDeploy deployment: application and group, the ECS target's cluster,
 * service, blue and green task sets and target groups, or the Lambda target's function, alias and
 * versions, and (only when `needed`) the test and production listeners' URLs from ELBv2.
 *
 * Green and blue come from facts that do not change during the deployment (see `taskSetRoles`; for
 * Lambda, the AppSpec's versions), and only when the plan uses them. When a needed one cannot be
 * told, this throws a `GreenIdentityError` saying why: a check never runs against a guess.
 */
export async function resolveCodeDeployContext(
  deps: {
    readonly listeners: ListenerPort;
    /** ECS DescribeTaskSets, to tell green from blue when GetDeploymentTarget omits the labels. */
    readonly taskSets?: TaskSetOriginPort | undefined;
    /** ECS DescribeTaskDefinition, for {{greenTaskDefinition}} and {{greenImage}}. */
    readonly taskDefinitions?: TaskDefinitionPort | undefined;
    readonly region?: string | undefined;
  },
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
  if (target?.type === 'ECSTarget') {
    const [cluster, service] = ecsNames(target);
    context.cluster = cluster;
    context.service = service;
    if (taskSetPlaceholders.some((p) => needed.has(p))) {
      const roles = await taskSetRoles(deps, { deployment, target, cluster, service }, signal);
      const need = (placeholder: string, unknown: string | undefined) => {
        if (needed.has(placeholder) && unknown !== undefined) {
          throw new GreenIdentityError(`{{${placeholder}}} at ${hook}: ${unknown}`);
        }
      };
      need('greenTaskSet', roles.greenUnknown);
      need('greenTargetGroup', roles.greenUnknown);
      need('blueTaskSet', roles.blueUnknown);
      need('blueTargetGroup', roles.blueUnknown);
      context.greenTaskSet = roles.green?.id;
      context.blueTaskSet = roles.blue?.id;
      context.greenTargetGroup = roles.green?.targetGroup;
      context.blueTargetGroup = roles.blue?.targetGroup;
    }
    // Green's task definition is the AppSpec's: fixed when the deployment was created.
    if (needsGreenTaskDefinition(needed)) {
      const appSpec = await readAppSpec(deployment.appSpecContent);
      Object.assign(
        context,
        await greenTaskDefinitionContext(
          deps.taskDefinitions,
          appSpec?.ecsTaskDefinition,
          needed,
          signal,
          `deployment ${deployment.deploymentId} has no AppSpec content naming one TaskDefinition`,
        ),
      );
    }
  } else if (target?.lambda) {
    Object.assign(
      context,
      lambdaVersions((await readAppSpec(deployment.appSpecContent))?.lambda, target, hook, needed),
    );
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
  const names = ecsServiceNames(target.targetArn);
  if (names?.cluster !== undefined) return [names.cluster, names.service];
  const [cluster, service] = target.targetId.split(':');
  return [cluster || undefined, service || undefined];
}

/**
 * The Lambda target's function, alias and versions. Green is the version the deployment moves traffic
 * to: the AppSpec's `TargetVersion` (CodeDeploy's `lambdaFunctionInfo.targetVersion` when there is no
 * AppSpec content), never the version the alias points to now, which is green itself once traffic has
 * moved. Blue is the AppSpec's `CurrentVersion`, or CodeDeploy's `currentVersion` while it is not green.
 */
function lambdaVersions(
  appSpec: NonNullable<AppSpecFacts['lambda']> | undefined,
  target: CodeDeployTarget,
  hook: string,
  needed: ReadonlySet<string>,
): DeploymentContext {
  const info = target.lambda ?? {};
  const disagree = (what: string, a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && a !== b
      ? `the AppSpec says ${what} ${a}, the deployment target ${b}`
      : undefined;
  const targetVersion = appSpec?.targetVersion ?? info.targetVersion;
  let targetUnknown = disagree('TargetVersion', appSpec?.targetVersion, info.targetVersion);
  if (targetVersion === undefined)
    targetUnknown = 'neither the AppSpec nor the deployment target names the target version';
  let currentVersion = appSpec?.currentVersion;
  let currentUnknown = disagree('TargetVersion', appSpec?.targetVersion, info.targetVersion);
  if (currentVersion === undefined) {
    if (info.currentVersion !== undefined && info.currentVersion !== targetVersion)
      currentVersion = info.currentVersion;
    else currentUnknown ??= 'the deployment has no AppSpec content and its alias already points to the target version';
  }
  for (const [placeholder, unknown] of [
    ['targetVersion', targetUnknown],
    ['currentVersion', currentUnknown],
  ] as const) {
    if (needed.has(placeholder) && unknown !== undefined) {
      throw new GreenIdentityError(`{{${placeholder}}} at ${hook}: ${unknown}`);
    }
  }
  return {
    functionName: appSpec?.name ?? info.functionName,
    alias: appSpec?.alias ?? info.alias,
    ...(targetUnknown === undefined ? { targetVersion } : {}),
    ...(currentUnknown === undefined ? { currentVersion } : {}),
  };
}
