import type { EcsLoadBalancer, EcsPort } from '../../aws/ecs.ts';
import type { ForwardPort, ListenerPort, WeightedTargetGroup } from '../../aws/elbv2.ts';
import type { TaskDefinitionPort } from '../../aws/task-definitions.ts';
import { errorMessage } from '../../core/analyze.ts';
import { listenerArnOf, targetGroupName } from '../../spec/arn.ts';
import { PlanError } from '../../spec/errors.ts';
import { ecsStages } from '../../spec/hooks.ts';
import type { DeploymentContext, PlaceholderName } from '../../spec/placeholders.ts';
import { greenTaskDefinitionContext, needsGreenTaskDefinition } from '../green-images.ts';
import { deploymentNames, type EcsStage, serviceNames } from './event.ts';

export interface EcsContextDeps {
  readonly ecs: EcsPort;
  readonly listeners: ListenerPort;
  readonly forwards: ForwardPort;
  /** ECS DescribeServiceRevisions and DescribeTaskDefinition, for {{greenTaskDefinition}} and {{greenImage}}. */
  readonly taskDefinitions?: TaskDefinitionPort;
}

/** What is known about the ECS native deployment before any Describe call. */
export interface EcsTarget {
  readonly stage: EcsStage;
  readonly serviceArn?: string | undefined;
  readonly serviceDeploymentArn?: string | undefined;
  readonly targetServiceRevisionArn?: string | undefined;
  readonly testTrafficWeight?: number | undefined;
  readonly productionTrafficWeight?: number | undefined;
  readonly region?: string | undefined;
}

const loadBalancerPlaceholders: readonly PlaceholderName[] = [
  'testListenerUrl',
  'prodListenerUrl',
  'greenTargetGroup',
  'blueTargetGroup',
  'greenTargetGroupArn',
  'blueTargetGroupArn',
];

/**
 * The placeholders of an ECS native deployment. The load balancer ones are resolved only when the
 * plan uses them: the listener rules and target groups of the service revision's load balancer
 * `advancedConfiguration` (else the service's), then ELBv2 for the listener's address and the rule's weights.
 */
export async function resolveEcsContext(
  deps: EcsContextDeps,
  target: EcsTarget,
  needed: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<DeploymentContext> {
  const names = {
    ...(target.serviceDeploymentArn ? deploymentNames(target.serviceDeploymentArn) : {}),
    ...(target.serviceArn ? serviceNames(target.serviceArn) : {}),
  };
  const context: { -readonly [K in keyof DeploymentContext]: DeploymentContext[K] } = {
    region: target.region,
    hook: target.stage,
    lifecycleStage: target.stage,
    cluster: names.cluster ?? deploymentNames(target.serviceDeploymentArn ?? '').cluster,
    service: names.service,
    serviceArn: target.serviceArn,
    serviceDeploymentArn: target.serviceDeploymentArn,
    targetServiceRevisionArn: target.targetServiceRevisionArn,
    testTrafficWeight: target.testTrafficWeight === undefined ? undefined : String(target.testTrafficWeight),
    productionTrafficWeight:
      target.productionTrafficWeight === undefined ? undefined : String(target.productionTrafficWeight),
  };
  if (needsGreenTaskDefinition(needed)) {
    // The target service revision's task definition: fixed when ECS created the revision.
    const revision = target.targetServiceRevisionArn;
    let taskDefinition: string | undefined;
    if (revision && deps.taskDefinitions) {
      try {
        taskDefinition = await deps.taskDefinitions.revisionTaskDefinition(revision, signal);
      } catch (error) {
        throw new Error(`cannot read service revision ${revision}: ${(error as Error)?.name}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    Object.assign(
      context,
      await greenTaskDefinitionContext(
        deps.taskDefinitions,
        taskDefinition,
        needed,
        signal,
        revision
          ? `ECS does not know the target service revision ${revision}`
          : 'the event names no target service revision',
      ),
    );
  }
  if (!loadBalancerPlaceholders.some((p) => needed.has(p))) return context;

  const lb = await blueGreenLoadBalancer(deps, target, context.cluster, context.service, signal);
  const listener = async (key: 'testListenerUrl' | 'prodListenerUrl'): Promise<void> => {
    if (!needed.has(key)) return;
    const rule = key === 'testListenerUrl' ? lb.testListenerRule : lb.productionListenerRule;
    const field = key === 'testListenerUrl' ? 'testListenerRule' : 'productionListenerRule';
    if (!rule) {
      throw new PlanError([`{{${key}}}: the service's load balancer advancedConfiguration has no ${field}`]);
    }
    const listenerArn = listenerArnOf(rule);
    if (!listenerArn)
      throw new PlanError([`{{${key}}}: ${field} ${rule} is neither a listener rule nor a listener ARN`]);
    try {
      context[key] = await deps.listeners.listenerUrl(listenerArn, signal);
    } catch (error) {
      throw new Error(`cannot resolve {{${key}}} from listener ${listenerArn}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  };
  const targetGroups = async (): Promise<void> => {
    if (
      !['greenTargetGroup', 'blueTargetGroup', 'greenTargetGroupArn', 'blueTargetGroupArn'].some((p) => needed.has(p))
    ) {
      return;
    }
    const { green, blue } = await greenAndBlue(deps, lb, target.stage, signal);
    context.greenTargetGroupArn = green;
    context.blueTargetGroupArn = blue;
    context.greenTargetGroup = targetGroupName(green);
    context.blueTargetGroup = targetGroupName(blue);
  };
  await Promise.all([listener('testListenerUrl'), listener('prodListenerUrl'), targetGroups()]);
  return context;
}

async function blueGreenLoadBalancer(
  deps: EcsContextDeps,
  target: EcsTarget,
  cluster: string | undefined,
  service: string | undefined,
  signal: AbortSignal,
): Promise<EcsLoadBalancer> {
  const withAdvanced = (lbs: readonly EcsLoadBalancer[] | undefined) =>
    lbs?.find((lb) => lb.testListenerRule || lb.productionListenerRule || lb.alternateTargetGroupArn);
  try {
    // The revision is what is being deployed; the service is the fallback (older revisions cannot be described).
    if (target.targetServiceRevisionArn) {
      const found = withAdvanced(await deps.ecs.serviceRevisionLoadBalancers(target.targetServiceRevisionArn, signal));
      if (found) return found;
    }
    if (cluster && service) {
      const found = withAdvanced(await deps.ecs.serviceLoadBalancers(cluster, service, signal));
      if (found) return found;
    }
  } catch (error) {
    throw new Error(`cannot read the service's load balancers: ${(error as Error)?.name}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  throw new PlanError([
    `load balancer placeholders: neither the target service revision nor the service ${service ?? '(unknown)'} has a load balancer with an advancedConfiguration (blue/green listener rules)`,
  ]);
}

const productionShift = ecsStages.indexOf('PRODUCTION_TRAFFIC_SHIFT');

/**
 * Which of the pair of target groups is green. ECS alternates the two between deployments, so it is read
 * from where traffic goes: before production shifts, blue is the one the production rule sends traffic to;
 * from then on, green is the one the test rule sends traffic to (or, with no test rule, once production
 * has shifted, the one the production rule sends traffic to).
 */
async function greenAndBlue(
  deps: EcsContextDeps,
  lb: EcsLoadBalancer,
  stage: EcsStage,
  signal: AbortSignal,
): Promise<{ green: string; blue: string }> {
  const a = lb.targetGroupArn;
  const b = lb.alternateTargetGroupArn;
  if (!a || !b) {
    throw new PlanError([
      '{{greenTargetGroupArn}}: the load balancer has no targetGroupArn and alternateTargetGroupArn pair',
    ]);
  }
  const heavier = async (rule: string): Promise<string> => {
    let weights: WeightedTargetGroup[];
    try {
      weights = await deps.forwards.forwardWeights(rule, signal);
    } catch (error) {
      throw new Error(`cannot read where ${rule} forwards: ${errorMessage(error)}`, { cause: error });
    }
    const weightOf = (arn: string) => weights.find((w) => w.targetGroupArn === arn)?.weight ?? 0;
    if (weightOf(a) === weightOf(b)) {
      throw new Error(`cannot tell green from blue: ${rule} sends both target groups the same weight`);
    }
    return weightOf(a) > weightOf(b) ? a : b;
  };
  const other = (arn: string) => (arn === a ? b : a);
  const index = ecsStages.indexOf(stage);
  if (index < productionShift) {
    if (!lb.productionListenerRule) {
      throw new PlanError([
        '{{greenTargetGroupArn}}: the load balancer advancedConfiguration has no productionListenerRule',
      ]);
    }
    const blue = await heavier(lb.productionListenerRule);
    return { green: other(blue), blue };
  }
  if (lb.testListenerRule) {
    const green = await heavier(lb.testListenerRule);
    return { green, blue: other(green) };
  }
  if (stage === 'POST_PRODUCTION_TRAFFIC_SHIFT' && lb.productionListenerRule) {
    const green = await heavier(lb.productionListenerRule);
    return { green, blue: other(green) };
  }
  throw new PlanError([
    `{{greenTargetGroupArn}}: cannot tell green from blue at ${stage} without a testListenerRule (production traffic is shifting)`,
  ]);
}
