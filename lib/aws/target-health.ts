import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isArn } from '../spec/arn.ts';
import { elbv2Client } from './elbv2.ts';
import { compact, sendOptions } from './lazy.ts';

export interface TargetState {
  readonly id: string;
  readonly port?: number;
  /** `initial`, `healthy`, `unhealthy`, `unhealthy.draining`, `unused`, `draining`, `unavailable`. */
  readonly state: string;
  readonly reason?: string;
  readonly description?: string;
}

/** What the target-health check asks of Elastic Load Balancing: reads only. */
export interface TargetHealthPort {
  /** The ARN of a target group given by name or ARN; a name is looked up (DescribeTargetGroups). */
  targetGroupArn(nameOrArn: string, signal?: AbortSignal): Promise<string>;
  /** Every registered target of the group and its state. */
  targetHealth(targetGroupArn: string, signal?: AbortSignal): Promise<TargetState[]>;
}

export function targetHealthAdapter(client: () => ElasticLoadBalancingV2Client = elbv2Client): TargetHealthPort {
  return {
    async targetGroupArn(nameOrArn, signal) {
      if (isArn(nameOrArn)) return nameOrArn;
      const out = await client().send(new DescribeTargetGroupsCommand({ Names: [nameOrArn] }), sendOptions(signal));
      const arn = out.TargetGroups?.[0]?.TargetGroupArn;
      // ELBv2 answers an unknown name with TargetGroupNotFound; an empty answer is treated the same.
      if (!arn) throw Object.assign(new Error(`target group ${nameOrArn} not found`), { name: 'TargetGroupNotFound' });
      return arn;
    },

    async targetHealth(targetGroupArn, signal) {
      const out = await client().send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
        sendOptions(signal),
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
