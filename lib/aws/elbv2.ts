import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { lazy, sendOptions } from './lazy.ts';

/** What greenlight asks of Elastic Load Balancing about listeners. */
export interface ListenerPort {
  /** `scheme://dns-name:port` of a listener. */
  listenerUrl(listenerArn: string, signal?: AbortSignal): Promise<string>;
}

export const elbv2Client = lazy(() => new ElasticLoadBalancingV2Client({}));

export function listenerAdapter(client: () => ElasticLoadBalancingV2Client = elbv2Client): ListenerPort {
  return {
    async listenerUrl(listenerArn, signal) {
      const listeners = await client().send(
        new DescribeListenersCommand({ ListenerArns: [listenerArn] }),
        sendOptions(signal),
      );
      const listener = listeners.Listeners?.[0];
      if (!listener?.LoadBalancerArn || listener.Port === undefined) {
        throw new Error(`listener ${listenerArn} not found`);
      }
      const lbs = await client().send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: [listener.LoadBalancerArn] }),
        sendOptions(signal),
      );
      const dns = lbs.LoadBalancers?.[0]?.DNSName;
      if (!dns) throw new Error(`load balancer ${listener.LoadBalancerArn} has no DNS name`);
      const scheme = listener.Protocol === 'HTTPS' || listener.Protocol === 'TLS' ? 'https' : 'http';
      return `${scheme}://${dns}:${listener.Port}`;
    },
  };
}
