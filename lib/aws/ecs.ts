import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ECSClient,
  type LoadBalancer,
} from '@aws-sdk/client-ecs';
import { withDeniedHint } from '../spec/denied.ts';
import { compact, lazy } from './lazy.ts';
import { throttledCall, withRetry } from './retry.ts';

/** A service's (or service revision's) load balancer, with the blue/green `advancedConfiguration` flattened in. */
export interface EcsLoadBalancer {
  readonly targetGroupArn?: string;
  readonly alternateTargetGroupArn?: string;
  /** An ALB listener rule ARN, or an NLB listener ARN. */
  readonly productionListenerRule?: string;
  readonly testListenerRule?: string;
  readonly containerName?: string;
  readonly containerPort?: number;
}

export type EcsHookAction = 'CONTINUE' | 'ROLLBACK';

export interface EcsLifecycleHookDetail {
  readonly hookId: string;
  readonly targetType?: string;
  /** AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT */
  readonly status?: string;
  /** Epoch milliseconds. */
  readonly expiresAt?: number;
  readonly timeoutAction?: string;
}

export interface EcsServiceDeployment {
  readonly serviceDeploymentArn: string;
  readonly serviceArn?: string;
  readonly clusterArn?: string;
  /** PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ... */
  readonly status?: string;
  readonly lifecycleStage?: string;
  readonly targetServiceRevisionArn?: string;
  readonly targetTestTrafficWeight?: number;
  readonly targetProductionTrafficWeight?: number;
  /** ECS filled in `rollback`: the deployment is being (or was) rolled back. */
  readonly rolledBack: boolean;
  readonly hooks: readonly EcsLifecycleHookDetail[];
}

/** What greenlight asks of Amazon ECS about native (blue/green, linear, canary) service deployments. */
export interface EcsPort {
  /** `undefined` when ECS reports the deployment as missing. */
  describeServiceDeployment(
    serviceDeploymentArn: string,
    signal?: AbortSignal,
  ): Promise<EcsServiceDeployment | undefined>;
  /** The load balancers of a service revision; `undefined` when ECS reports it as missing. */
  serviceRevisionLoadBalancers(
    serviceRevisionArn: string,
    signal?: AbortSignal,
  ): Promise<EcsLoadBalancer[] | undefined>;
  /** The load balancers of a service; `undefined` when ECS reports it as missing. */
  serviceLoadBalancers(cluster: string, service: string, signal?: AbortSignal): Promise<EcsLoadBalancer[] | undefined>;
  /** Resumes a paused deployment. The action is required: ECS reads an omitted one as CONTINUE. */
  continueServiceDeployment(
    input: { serviceDeploymentArn: string; hookId: string; action: EcsHookAction },
    signal?: AbortSignal,
  ): Promise<void>;
}

export const ecsClient = lazy(() => withRetry((config) => new ECSClient(config)));

/** The template's EcsClusterNames scopes the ECS functions' ECS actions: a denial says where to allow it. */
export const ecsClustersDenied =
  "greenlight's ECS functions may act only on the clusters the stack's EcsClusterNames parameter names: add the cluster there";

export function ecsAdapter(client: () => ECSClient = ecsClient): EcsPort {
  const port = ecsCalls(client);
  const hinted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      call(...args).catch((error: unknown) => withDeniedHint(error, ecsClustersDenied));
  return {
    describeServiceDeployment: hinted(port.describeServiceDeployment),
    serviceRevisionLoadBalancers: hinted(port.serviceRevisionLoadBalancers),
    serviceLoadBalancers: hinted(port.serviceLoadBalancers),
    continueServiceDeployment: hinted(port.continueServiceDeployment),
  };
}

function ecsCalls(client: () => ECSClient): EcsPort {
  return {
    async describeServiceDeployment(serviceDeploymentArn, signal) {
      const out = await throttledCall('ECS DescribeServiceDeployments', signal, (o) =>
        client().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }), o),
      );
      const d = out.serviceDeployments?.find((s) => s.serviceDeploymentArn === serviceDeploymentArn);
      if (!d) {
        // MISSING means gone; any other failure means it could not be read, which must not pass for gone.
        const failure = out.failures?.find((f) => f.arn === serviceDeploymentArn && f.reason !== 'MISSING');
        if (failure) {
          throw new Error(
            `DescribeServiceDeployments failed: ${failure.reason}${failure.detail ? `: ${failure.detail}` : ''}`,
          );
        }
        return undefined;
      }
      return compact({
        serviceDeploymentArn,
        serviceArn: d.serviceArn,
        clusterArn: d.clusterArn,
        status: d.status,
        lifecycleStage: d.lifecycleStage,
        targetServiceRevisionArn: d.targetServiceRevision?.arn,
        targetTestTrafficWeight: d.targetServiceRevision?.requestedTestTrafficWeight,
        targetProductionTrafficWeight: d.targetServiceRevision?.requestedProductionTrafficWeight,
        rolledBack: d.rollback !== undefined,
        hooks: (d.lifecycleHookDetails ?? [])
          .filter((h) => typeof h.hookId === 'string')
          .map((h) =>
            compact({
              hookId: h.hookId as string,
              targetType: h.targetType,
              status: h.status,
              expiresAt: h.expiresAt instanceof Date ? h.expiresAt.getTime() : undefined,
              timeoutAction: h.timeoutAction,
            }),
          ),
      });
    },

    async serviceRevisionLoadBalancers(serviceRevisionArn, signal) {
      const out = await throttledCall('ECS DescribeServiceRevisions', signal, (o) =>
        client().send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [serviceRevisionArn] }), o),
      );
      const revision = out.serviceRevisions?.find((r) => r.serviceRevisionArn === serviceRevisionArn);
      return revision ? (revision.loadBalancers ?? []).map(flatten) : undefined;
    },

    async serviceLoadBalancers(cluster, service, signal) {
      const out = await throttledCall('ECS DescribeServices', signal, (o) =>
        client().send(new DescribeServicesCommand({ cluster, services: [service] }), o),
      );
      const found = out.services?.[0];
      return found ? (found.loadBalancers ?? []).map(flatten) : undefined;
    },

    async continueServiceDeployment(input, signal) {
      await throttledCall('ECS ContinueServiceDeployment', signal, (o) =>
        client().send(
          new ContinueServiceDeploymentCommand({
            serviceDeploymentArn: input.serviceDeploymentArn,
            hookId: input.hookId,
            action: input.action,
          }),
          o,
        ),
      );
    },
  };
}

function flatten(lb: LoadBalancer): EcsLoadBalancer {
  const a = lb.advancedConfiguration;
  return compact({
    targetGroupArn: lb.targetGroupArn,
    alternateTargetGroupArn: a?.alternateTargetGroupArn,
    productionListenerRule: a?.productionListenerRule,
    testListenerRule: a?.testListenerRule,
    containerName: lb.containerName,
    containerPort: lb.containerPort,
  });
}
