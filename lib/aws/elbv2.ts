import {
  type Action,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isListenerRuleArn } from '../spec/arn.ts';
import { lazy } from './lazy.ts';
import { throttledCall, withRetry } from './retry.ts';

/** What greenlight asks of Elastic Load Balancing about listeners. */
export interface ListenerPort {
  /** `scheme://dns-name:port` of a listener. */
  listenerUrl(listenerArn: string, signal?: AbortSignal): Promise<string>;
}

export const elbv2Client = lazy(() => withRetry((config) => new ElasticLoadBalancingV2Client(config)));

export function listenerAdapter(client: () => ElasticLoadBalancingV2Client = elbv2Client): ListenerPort {
  return {
    async listenerUrl(listenerArn, signal) {
      const listeners = await throttledCall('ELBv2 DescribeListeners', signal, (o) =>
        client().send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }), o),
      );
      const listener = listeners.Listeners?.[0];
      if (!listener?.LoadBalancerArn || listener.Port === undefined) {
        throw new Error(`listener ${listenerArn} not found`);
      }
      const loadBalancerArn = listener.LoadBalancerArn;
      const lbs = await throttledCall('ELBv2 DescribeLoadBalancers', signal, (o) =>
        client().send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [loadBalancerArn] }), o),
      );
      const dns = lbs.LoadBalancers?.[0]?.DNSName;
      if (!dns) throw new Error(`load balancer ${listener.LoadBalancerArn} has no DNS name`);
      const scheme = listener.Protocol === 'HTTPS' || listener.Protocol === 'TLS' ? 'https' : 'http';
      return `${scheme}://${dns}:${listener.Port}`;
    },
  };
}

export { listenerArnOf } from '../spec/arn.ts';

export interface WeightedTargetGroup {
  readonly targetGroupArn: string;
  readonly weight: number;
}

/** What greenlight asks of Elastic Load Balancing about where a rule or listener forwards. */
export interface ForwardPort {
  /** The target groups a listener rule (or an NLB listener's default action) forwards to, with their weights. */
  forwardWeights(ruleOrListenerArn: string, signal?: AbortSignal): Promise<WeightedTargetGroup[]>;
}

export function forwardAdapter(client: () => ElasticLoadBalancingV2Client = elbv2Client): ForwardPort {
  return {
    async forwardWeights(ruleOrListenerArn, signal) {
      let actions: Action[] | undefined;
      if (isListenerRuleArn(ruleOrListenerArn)) {
        const out = await throttledCall('ELBv2 DescribeRules', signal, (o) =>
          client().send(new DescribeRulesCommand({ RuleArns: [ruleOrListenerArn] }), o),
        );
        actions = out.Rules?.[0]?.Actions;
      } else {
        const out = await throttledCall('ELBv2 DescribeListeners', signal, (o) =>
          client().send(new DescribeListenersCommand({ ListenerArns: [ruleOrListenerArn] }), o),
        );
        actions = out.Listeners?.[0]?.DefaultActions;
      }
      const forward = actions?.find((a) => a.Type === 'forward');
      if (!forward) throw new Error(`${ruleOrListenerArn} has no forward action`);
      const groups = forward.ForwardConfig?.TargetGroups;
      if (groups && groups.length > 0) {
        return groups
          .filter((g) => typeof g.TargetGroupArn === 'string')
          .map((g) => ({ targetGroupArn: g.TargetGroupArn as string, weight: g.Weight ?? 1 }));
      }
      // A plain forward to one target group sends it everything.
      return forward.TargetGroupArn ? [{ targetGroupArn: forward.TargetGroupArn, weight: 1 }] : [];
    },
  };
}
