import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalLoadBalancer } from '../elb-setup.ts';

export interface Elbv2StandIn {
  readonly url: string;
  readonly loadBalancer: LocalLoadBalancer;
  /** What DescribeTargetHealth answers for the blue or green target group (none until set). */
  setTargets(targetGroupArn: string, targets: readonly { id: string; port?: number; state: string }[]): void;
  close(): Promise<void>;
}

const namespace = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/**
 * The ELBv2 calls greenlight makes to resolve a listener's URL (DescribeListeners,
 * DescribeLoadBalancers) and to read target health (DescribeTargetGroups, DescribeTargetHealth), in the
 * service's query protocol, for machines without moto_server.
 * It knows one application load balancer with a production and a test listener on the given
 * ports, shaped like `createLoadBalancer` makes in moto_server.
 */
export async function startElbv2StandIn(options: {
  name: string;
  prodPort: number;
  testPort: number;
  region?: string;
}): Promise<Elbv2StandIn> {
  const region = options.region ?? 'us-east-1';
  const id = randomBytes(8).toString('hex');
  const arn = (kind: string, rest: string) => `arn:aws:elasticloadbalancing:${region}:123456789012:${kind}/${rest}`;
  const loadBalancer: LocalLoadBalancer = {
    dnsName: `${options.name}-1.${region}.elb.amazonaws.com`,
    loadBalancerArn: arn('loadbalancer', `app/${options.name}/${id}`),
    prodListenerArn: arn('listener', `app/${options.name}/${id}/${randomBytes(8).toString('hex')}`),
    testListenerArn: arn('listener', `app/${options.name}/${id}/${randomBytes(8).toString('hex')}`),
    blueTargetGroupArn: arn('targetgroup', `${options.name}-blue/${randomBytes(8).toString('hex')}`),
    greenTargetGroupArn: arn('targetgroup', `${options.name}-green/${randomBytes(8).toString('hex')}`),
  };
  const listeners = [
    { arn: loadBalancer.prodListenerArn, port: options.prodPort, targetGroup: loadBalancer.blueTargetGroupArn },
    { arn: loadBalancer.testListenerArn, port: options.testPort, targetGroup: loadBalancer.greenTargetGroupArn },
  ];

  const targetGroups = [loadBalancer.blueTargetGroupArn, loadBalancer.greenTargetGroupArn];
  const targets = new Map<string, readonly { id: string; port?: number; state: string }[]>();
  const groupName = (arn: string) => arn.split(':targetgroup/')[1]?.split('/')[0] ?? '';

  const operations: Record<string, (form: URLSearchParams) => string> = {
    // The rules ECS names in advancedConfiguration (standInRules): the production rule forwards to blue, the
    // test rule to green, as they stand once test traffic has shifted.
    DescribeRules: (form) => {
      const items = members(form, 'RuleArns').map((ruleArn) => {
        const listenerArn = ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
        const listener = listeners.find((l) => l.arn === listenerArn);
        if (!listener) throw new QueryError('RuleNotFound', 'One or more rules not found');
        const heavy = listener.targetGroup;
        const light = targetGroups.find((t) => t !== heavy) as string;
        const group = (arn: string, weight: number) =>
          `<member><TargetGroupArn>${arn}</TargetGroupArn><Weight>${weight}</Weight></member>`;
        return (
          `<member><RuleArn>${ruleArn}</RuleArn><Priority>1</Priority><IsDefault>false</IsDefault><Conditions/>` +
          `<Actions><member><Type>forward</Type><Order>1</Order><ForwardConfig><TargetGroups>${group(heavy, 100)}${group(light, 0)}` +
          '</TargetGroups></ForwardConfig></member></Actions></member>'
        );
      });
      return `<Rules>${items.join('')}</Rules>`;
    },
    DescribeTargetGroups: (form) => {
      const byName = members(form, 'Names');
      const byArn = members(form, 'TargetGroupArns');
      const found = targetGroups.filter((arn) => byName.includes(groupName(arn)) || byArn.includes(arn));
      if (found.length < byName.length + byArn.length) {
        throw new QueryError('TargetGroupNotFound', 'One or more target groups not found');
      }
      const items = found.map(
        (arn) =>
          `<member><TargetGroupArn>${arn}</TargetGroupArn><TargetGroupName>${groupName(arn)}</TargetGroupName>` +
          `<Protocol>HTTP</Protocol><Port>80</Port><TargetType>ip</TargetType><HealthCheckIntervalSeconds>30</HealthCheckIntervalSeconds>` +
          `<LoadBalancerArns><member>${loadBalancer.loadBalancerArn}</member></LoadBalancerArns></member>`,
      );
      return `<TargetGroups>${items.join('')}</TargetGroups>`;
    },
    DescribeTargetHealth: (form) => {
      const arn = form.get('TargetGroupArn') ?? '';
      if (!targetGroups.includes(arn))
        throw new QueryError('TargetGroupNotFound', 'One or more target groups not found');
      const items = (targets.get(arn) ?? []).map(
        (t) =>
          `<member><Target><Id>${t.id}</Id>${t.port === undefined ? '' : `<Port>${t.port}</Port>`}</Target>` +
          `<TargetHealth><State>${t.state}</State>${t.state === 'healthy' ? '' : '<Reason>Target.FailedHealthChecks</Reason><Description>Health checks failed</Description>'}</TargetHealth></member>`,
      );
      return `<TargetHealthDescriptions>${items.join('')}</TargetHealthDescriptions>`;
    },
    DescribeListeners: (form) => {
      const wanted = members(form, 'ListenerArns');
      const byLb = form.get('LoadBalancerArn');
      const found = listeners.filter((l) =>
        wanted.length > 0 ? wanted.includes(l.arn) : byLb === loadBalancer.loadBalancerArn,
      );
      if (wanted.length > 0 && found.length < wanted.length) {
        throw new QueryError('ListenerNotFound', 'One or more listeners not found');
      }
      const items = found.map(
        (l) =>
          `<member><ListenerArn>${l.arn}</ListenerArn><LoadBalancerArn>${loadBalancer.loadBalancerArn}</LoadBalancerArn>` +
          `<Port>${l.port}</Port><Protocol>HTTP</Protocol><DefaultActions><member><Type>forward</Type>` +
          `<TargetGroupArn>${l.targetGroup}</TargetGroupArn></member></DefaultActions></member>`,
      );
      return `<Listeners>${items.join('')}</Listeners>`;
    },
    DescribeLoadBalancers: (form) => {
      const wanted = members(form, 'LoadBalancerArns');
      if (wanted.some((a) => a !== loadBalancer.loadBalancerArn)) {
        throw new QueryError('LoadBalancerNotFound', 'One or more load balancers not found');
      }
      return (
        `<LoadBalancers><member><LoadBalancerArn>${loadBalancer.loadBalancerArn}</LoadBalancerArn>` +
        `<DNSName>${loadBalancer.dnsName}</DNSName><LoadBalancerName>${options.name}</LoadBalancerName>` +
        '<Scheme>internet-facing</Scheme><Type>application</Type><State><Code>active</Code></State>' +
        '</member></LoadBalancers>'
      );
    },
  };

  const server = createServer((req, res) => {
    void answer(req, res, operations).catch((error: unknown) => {
      sendXml(res, 500, errorXml('InternalFailure', String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    loadBalancer,
    setTargets(arn, list) {
      targets.set(arn, list);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

class QueryError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'QueryError';
    this.code = code;
  }
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (form: URLSearchParams) => string>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const action = form.get('Action') ?? '';
  const operation = operations[action];
  if (!operation) {
    sendXml(res, 400, errorXml('InvalidAction', `the ELBv2 stand-in does not implement ${action || '(no Action)'}`));
    return;
  }
  try {
    const result = operation(form);
    sendXml(
      res,
      200,
      `<${action}Response xmlns="${namespace}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`,
    );
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    sendXml(res, 400, errorXml(error.code, error.message));
  }
}

/** `Name.member.1`, `Name.member.2`, ... of a query-protocol list. */
function members(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${name}.member.${i}`); i++) out.push(form.get(`${name}.member.${i}`) ?? '');
  return out;
}

function errorXml(code: string, message: string): string {
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${message.replace(/[<&>]/g, '')}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`
  );
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function requestId(): string {
  return randomBytes(16).toString('hex');
}
