import { type ECSClient, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { type EcsServiceDeployment, ecsAdapter, ecsClient } from './ecs.ts';
import { throttledCall } from './retry.ts';

/**
 * An ECS service's newest native (blue/green, linear, canary) deployment, as `greenlight status --cluster
 * --service` shows it: `ListServiceDeployments` (newest first) then `DescribeServiceDeployments` for its
 * lifecycle stage and hooks. Read-only (ecs:ListServiceDeployments, ecs:DescribeServiceDeployments).
 * `undefined` when the service has no deployment ECS lists. Rejects with the SDK's error.
 */
export interface EcsServiceDeploymentsPort {
  latest(cluster: string, service: string, signal?: AbortSignal): Promise<EcsServiceDeployment | undefined>;
}

export function ecsServiceDeploymentsAdapter(client: () => ECSClient = ecsClient): EcsServiceDeploymentsPort {
  const ecs = ecsAdapter(client);
  return {
    async latest(cluster, service, signal) {
      // Still throttled when the read's time ran out: said as such, not as a bare AbortError.
      const out = await throttledCall('ECS ListServiceDeployments', signal, (o) =>
        client().send(new ListServiceDeploymentsCommand({ cluster, service, maxResults: 20 }), o),
      );
      // The API lists newest first; sorting by creation keeps that true whatever the order.
      const newest = [...(out.serviceDeployments ?? [])].sort(
        (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
      )[0];
      if (!newest?.serviceDeploymentArn) return undefined;
      return ecs.describeServiceDeployment(newest.serviceDeploymentArn, signal);
    },
  };
}
