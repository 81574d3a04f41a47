import { randomBytes } from 'node:crypto';
import { CreateRuleCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LocalLoadBalancer } from './elb-setup.ts';

export interface BlueGreenRules {
  /** On the production listener: everything to blue. */
  readonly productionListenerRule: string;
  /** On the test listener: everything to green. */
  readonly testListenerRule: string;
}

/**
 * Adds, in moto_server, the listener rules an Amazon ECS blue/green service names in its load balancer
 * `advancedConfiguration`, as they stand once test traffic has shifted: production to blue, test to green.
 */
export async function createBlueGreenRules(
  motoUrl: string,
  lb: LocalLoadBalancer,
  region = 'us-east-1',
): Promise<BlueGreenRules> {
  const client = new ElasticLoadBalancingV2Client({
    endpoint: motoUrl,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const rule = async (listenerArn: string, heavy: string, light: string): Promise<string> => {
    const out = await client.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: heavy, Weight: 100 },
                { TargetGroupArn: light, Weight: 0 },
              ],
            },
          },
        ],
      }),
    );
    const arn = out.Rules?.[0]?.RuleArn;
    if (!arn) throw new Error('moto_server did not create the listener rule');
    return arn;
  };
  return {
    productionListenerRule: await rule(lb.prodListenerArn, lb.blueTargetGroupArn, lb.greenTargetGroupArn),
    testListenerRule: await rule(lb.testListenerArn, lb.greenTargetGroupArn, lb.blueTargetGroupArn),
  };
}

/**
 * Listener-rule ARNs on the built-in ELBv2 stand-in's listeners (what ECS's advancedConfiguration names),
 * for a machine without moto_server: the stand-in has no rules, greenlight reads the listener from the ARN.
 */
export function standInRules(lb: LocalLoadBalancer): BlueGreenRules {
  const rule = (listenerArn: string) =>
    `${listenerArn.replace(':listener/', ':listener-rule/')}/${randomBytes(8).toString('hex')}`;
  return { productionListenerRule: rule(lb.prodListenerArn), testListenerRule: rule(lb.testListenerArn) };
}
