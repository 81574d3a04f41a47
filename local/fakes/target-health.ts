import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward, readBody } from './http.ts';

export interface FakeTarget {
  readonly id: string;
  readonly port?: number;
  /** `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`. */
  readonly state: string;
  readonly reason?: string;
  readonly description?: string;
}

export interface QueryFault {
  /** The error code, e.g. Throttling, AccessDenied, TargetGroupNotFound. */
  readonly code: string;
  readonly status?: number;
  readonly message?: string;
}

export interface TargetHealthFake {
  readonly url: string;
  /** Actions received, in order (forwarded ones included). */
  readonly actions: string[];
  /** Answers DescribeTargetHealth for this target group ARN with these targets instead of moto's. */
  setTargets(targetGroupArn: string, targets: readonly FakeTarget[]): void;
  /** The next `times` calls of `action` fail with `fault` (Infinity: every call). */
  failNext(action: string, fault: QueryFault, times?: number): void;
  close(): Promise<void>;
}

/**
 * Elastic Load Balancing v2 (AWS query protocol) on 127.0.0.1 in front of moto_server. moto reports
 * every registered target `healthy`, so target states it never produces (`initial`, `unhealthy`,
 * `draining`) and faults (throttling, access denied) come from here; every other action goes to moto.
 */
export async function startTargetHealthFake(motoUrl: string): Promise<TargetHealthFake> {
  const overrides = new Map<string, readonly FakeTarget[]>();
  const faults = new Map<string, { fault: QueryFault; left: number }[]>();
  const actions: string[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) =>
      sendError(res, { code: 'InternalFailure', status: 500, message: String(error) }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    actions.push(action);
    const queue = faults.get(action);
    const next = queue?.[0];
    if (next) {
      next.left--;
      if (next.left <= 0) queue?.shift();
      return sendError(res, next.fault);
    }
    const targets = action === 'DescribeTargetHealth' ? overrides.get(params.get('TargetGroupArn') ?? '') : undefined;
    if (targets) return sendXml(res, 200, describeTargetHealthXml(targets));
    return forward(motoUrl, req, body, res, (message) =>
      sendError(res, { code: 'InternalFailure', status: 502, message: `moto unreachable: ${message}` }),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    actions,
    setTargets(arn, targets) {
      overrides.set(arn, targets);
    },
    failNext(action, fault, times = 1) {
      const queue = faults.get(action) ?? [];
      queue.push({ fault, left: times });
      faults.set(action, queue);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const ns = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

function describeTargetHealthXml(targets: readonly FakeTarget[]): string {
  const members = targets
    .map((t) => {
      const port = t.port === undefined ? '' : `<Port>${t.port}</Port>`;
      const reason = t.reason ? `<Reason>${xmlText(t.reason)}</Reason>` : '';
      const description = t.description ? `<Description>${xmlText(t.description)}</Description>` : '';
      return `<member><Target><Id>${xmlText(t.id)}</Id>${port}</Target><TargetHealth><State>${xmlText(t.state)}</State>${reason}${description}</TargetHealth></member>`;
    })
    .join('');
  return `<DescribeTargetHealthResponse xmlns="${ns}"><DescribeTargetHealthResult><TargetHealthDescriptions>${members}</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`;
}

function sendError(res: ServerResponse, fault: QueryFault): void {
  const xml = `<ErrorResponse xmlns="${ns}"><Error><Type>${(fault.status ?? 400) >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlText(fault.code)}</Code><Message>${xmlText(fault.message ?? fault.code)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
  sendXml(res, fault.status ?? 400, xml);
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function xmlText(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
