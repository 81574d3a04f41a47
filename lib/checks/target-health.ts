import type { Observation } from '../core/types.ts';
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

/** A target group as the target-health check needs it. */
export interface TargetGroupState {
  readonly arn: string;
  /** Seconds between two health checks of each target (5-300); absent when Elastic Load Balancing does not say. */
  readonly healthCheckIntervalSeconds?: number;
}

/** What the target-health check asks of Elastic Load Balancing: reads only. */
export interface TargetHealthPort {
  /**
   * A target group given by name or ARN (DescribeTargetGroups): its ARN and health check interval, which do
   * not change during a hook. https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
   */
  targetGroup(nameOrArn: string, signal?: AbortSignal): Promise<TargetGroupState>;
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
    const where = `target group ${spec.targetGroup}`;
    // A target group's ARN and health check interval do not change during a hook: read once, not per measurement.
    let group: TargetGroupState | undefined;
    // Elastic Load Balancing changes a target's state at its health checks (and at registration, after which a
    // deregistered target stays draining for the deregistration delay): a reading younger than the interval stands.
    let last: { readonly targets: TargetState[]; readonly at: number } | undefined;
    return withReadBudget(deps.clock, async (signal, at): Promise<Observation> => {
      const now = deps.clock.now();
      const floorMs = intervalMs(group?.healthCheckIntervalSeconds);
      // A health check may have run at any moment since the last reading: the measurement whose pass would
      // complete the check reads again, so the check never passes on an older reading.
      if (last && at?.final !== true && now - last.at < floorMs) {
        const o = judge(last.targets);
        return {
          ...o,
          message: `${o.message} (as read ${((now - last.at) / 1000).toFixed(1)} s ago: target health changes at most once a health check interval, ${floorMs / 1000} s)`,
        };
      }
      let targets: TargetState[];
      try {
        group ??= await elb.targetGroup(spec.targetGroup, signal);
        targets = await elb.targetHealth(group.arn, signal);
      } catch (error) {
        return awsError(`DescribeTargetHealth ${where}`, error, signal);
      }
      last = { targets, at: now };
      return judge(targets);
    });

    function judge(targets: readonly TargetState[]): Observation {
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
    }
  },
};

/** How long a reading stands: the target group's interval (ELB accepts 5-300 s), 0 when it says nothing usable. */
function intervalMs(seconds: unknown): number {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.min(300, Math.max(0, seconds)) * 1000 : 0;
}
