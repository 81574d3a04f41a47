import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthPort } from '../checks/target-health.ts';
import { isArn } from '../spec/arn.ts';
import { elbv2Client } from './elbv2.ts';
import { compact } from './lazy.ts';
import { throttledCall } from './retry.ts';

export function targetHealthAdapter(client: () => ElasticLoadBalancingV2Client = elbv2Client): TargetHealthPort {
  return {
    async targetGroup(nameOrArn, signal) {
      const out = await throttledCall('ELBv2 DescribeTargetGroups', signal, (o) =>
        client().send(
          new DescribeTargetGroupsCommand(isArn(nameOrArn) ? { TargetGroupArns: [nameOrArn] } : { Names: [nameOrArn] }),
          o,
        ),
      );
      const group = out.TargetGroups?.[0];
      // ELBv2 answers an unknown name with TargetGroupNotFound; an empty answer is treated the same.
      if (!group?.TargetGroupArn) {
        throw Object.assign(new Error(`target group ${nameOrArn} not found`), { name: 'TargetGroupNotFound' });
      }
      return compact({ arn: group.TargetGroupArn, healthCheckIntervalSeconds: group.HealthCheckIntervalSeconds });
    },

    async targetHealth(targetGroupArn, signal) {
      const out = await throttledCall('ELBv2 DescribeTargetHealth', signal, (o) =>
        client().send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), o),
      );
      return (out.TargetHealthDescriptions ?? []).map((d) =>
        compact({
          id: d.Target?.Id ?? '(unknown target)',
          port: d.Target?.Port,
          state: d.TargetHealth?.State ?? 'unknown',
          reason: d.TargetHealth?.Reason,
          description: d.TargetHealth?.Description,
        }),
      );
    },
  };
}
