import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { defaultRetryTuning, withRetry } from '../lib/aws/retry.ts';

export interface FleetClients {
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  destroy(): void;
}

/**
 * One deployment's SDK clients, made as lib/aws makes them (`withRetry`), with the retry delays divided by
 * `scale`. (Before issue 14 the bench made them with the SDK's standard mode, 3 attempts, full-jitter backoff
 * from 1 s for throttling, delays divided by `scale` the same way.)
 */
export function fleetClients(scale: number): FleetClients {
  const tuning = {
    ...defaultRetryTuning,
    throttleBaseMs: defaultRetryTuning.throttleBaseMs / scale,
    throttleCapMs: defaultRetryTuning.throttleCapMs / scale,
    throttleGiveUpMs: defaultRetryTuning.throttleGiveUpMs / scale,
    otherBaseMs: defaultRetryTuning.otherBaseMs / scale,
  };
  const ecs = withRetry((config) => new ECSClient(config), tuning);
  const elb = withRetry((config) => new ElasticLoadBalancingV2Client(config), tuning);
  const cloudwatch = withRetry((config) => new CloudWatchClient(config), tuning);
  return {
    ecs,
    elb,
    cloudwatch,
    destroy() {
      ecs.destroy();
      elb.destroy();
      cloudwatch.destroy();
    },
  };
}
