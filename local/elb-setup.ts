import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export interface LocalLoadBalancer {
  readonly dnsName: string;
  readonly loadBalancerArn: string;
  readonly prodListenerArn: string;
  readonly testListenerArn: string;
  readonly blueTargetGroupArn: string;
  readonly greenTargetGroupArn: string;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The default subnets moto_server creates, read through its EC2 query API. */
async function defaultSubnets(motoUrl: string, region: string): Promise<string[]> {
  const res = await fetch(`${motoUrl}/?Action=DescribeSubnets&Version=2016-11-15`, {
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
  });
  const text = await res.text();
  return [...text.matchAll(/<subnetId>([^<]+)<\/subnetId>/g)].map((m) => m[1] as string);
}

/**
 * Creates, in moto_server, an application load balancer with a production and a test listener on
 * the given ports (the ports of local blue and green servers) and a blue and a green target group.
 */
export async function createLoadBalancer(
  motoUrl: string,
  options: { name: string; prodPort: number; testPort: number; region?: string },
): Promise<LocalLoadBalancer> {
  const client = new ElasticLoadBalancingV2Client({
    endpoint: motoUrl,
    region: options.region ?? 'us-east-1',
    credentials,
  });
  const subnets = await defaultSubnets(motoUrl, options.region ?? 'us-east-1');
  const lb = (await client.send(new CreateLoadBalancerCommand({ Name: options.name, Subnets: subnets.slice(0, 2) })))
    .LoadBalancers?.[0];
  if (!lb?.LoadBalancerArn || !lb.DNSName) throw new Error('moto_server did not create the load balancer');
  const targetGroup = async (name: string): Promise<string> => {
    const tg = await client.send(
      new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: lb.VpcId, TargetType: 'ip' }),
    );
    return tg.TargetGroups?.[0]?.TargetGroupArn as string;
  };
  const blueTargetGroupArn = await targetGroup(`${options.name}-blue`);
  const greenTargetGroupArn = await targetGroup(`${options.name}-green`);
  const listener = async (port: number, targetGroupArn: string): Promise<string> => {
    const out = await client.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: port,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      }),
    );
    return out.Listeners?.[0]?.ListenerArn as string;
  };
  return {
    dnsName: lb.DNSName,
    loadBalancerArn: lb.LoadBalancerArn,
    prodListenerArn: await listener(options.prodPort, blueTargetGroupArn),
    testListenerArn: await listener(options.testPort, greenTargetGroupArn),
    blueTargetGroupArn,
    greenTargetGroupArn,
  };
}
