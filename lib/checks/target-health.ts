import { join } from '../spec/fields.ts';
import type { CheckKind } from './kind.ts';
import { awsError, listSome, textOr } from './observations.ts';
import { withReadBudget } from './read-budget.ts';

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

export interface TargetHealthSpec {
  /** A target group name (CodeDeploy gives names) or ARN (ECS native); `{{greenTargetGroup}}` by default. */
  readonly targetGroup: string;
  /** Fewer healthy targets than this fails; 1 by default. */
  readonly minHealthy: number;
}

/** What the target-health check asks of AWS (lib/aws/target-health.ts implements it). */
export interface TargetHealthPorts {
  readonly targetHealth: TargetHealthPort;
}

export const targetHealthCheck: CheckKind<TargetHealthSpec, TargetHealthPorts> = {
  parse(raw, path, f) {
    const targetGroup = textOr(raw, 'targetGroup', path, f, '{{greenTargetGroup}}');
    const minHealthy =
      raw.minHealthy === undefined ? 1 : f.integer(raw.minHealthy, join(path, 'minHealthy'), 0, 10_000);
    if (targetGroup === undefined || minHealthy === undefined) return undefined;
    return { targetGroup, minHealthy };
  },

  create(spec, deps) {
    const elb = deps.targetHealth;
    // A target group's ARN does not change during a hook: looked up from its name once, not per measurement.
    let arn: string | undefined;
    return withReadBudget(deps.clock, async (signal) => {
      const where = `target group ${spec.targetGroup}`;
      let targets: TargetState[];
      try {
        arn ??= await elb.targetGroupArn(spec.targetGroup, signal);
        targets = await elb.targetHealth(arn, signal);
      } catch (error) {
        return awsError(`DescribeTargetHealth ${where}`, error, signal);
      }
      // Only `healthy` counts: `initial`, `draining`, `unused` and `unavailable` are not serving green traffic yet (or any more).
      const healthy = targets.filter((t) => t.state === 'healthy');
      const others = targets
        .filter((t) => t.state !== 'healthy')
        .map((t) => `${t.id}${t.port === undefined ? '' : `:${t.port}`} ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
      const summary = `${healthy.length} of ${targets.length} targets healthy`;
      if (others.length > 0) {
        return {
          outcome: 'fail',
          message: `${where}: ${summary}; not healthy: ${listSome(others, 4)}`,
          value: healthy.length,
        };
      }
      if (healthy.length < spec.minHealthy) {
        return {
          outcome: 'fail',
          message: `${where}: ${summary}, fewer than minHealthy ${spec.minHealthy}`,
          value: healthy.length,
        };
      }
      return { outcome: 'pass', message: `${where}: ${summary}`, value: healthy.length };
    });
  },
};
