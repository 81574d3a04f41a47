import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http.ts';

export interface AsyncInvocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: unknown;
  readonly at: number;
}

/**
 * The Lambda Invoke API (REST-JSON, `POST /2015-03-31/functions/{name}/invocations`) for asynchronous
 * invocations: it queues what it is sent instead of running anything, so a test (or a local rehearsal)
 * delivers each queued event to the handler itself, as Lambda would. Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA.
 */
export interface LambdaAsyncFake {
  readonly url: string;
  /** Every accepted invocation, in order. */
  readonly invocations: AsyncInvocation[];
  /** Removes and returns the invocations not yet taken. */
  take(): AsyncInvocation[];
  /** The next `times` invocations fail with this error (Infinity: every one). */
  failNext(fault: { type: string; status: number; message?: string }, times?: number): void;
  close(): Promise<void>;
}

export async function startLambdaAsyncFake(port?: number): Promise<LambdaAsyncFake> {
  const invocations: AsyncInvocation[] = [];
  let taken = 0;
  const faults: { fault: { type: string; status: number; message?: string }; left: number }[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { Type: 'Service', message: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      return send(
        res,
        404,
        { Type: 'User', message: `fake does not implement ${req.method} ${req.url}` },
        'UnknownOperationException',
      );
    }
    const fault = faults[0];
    if (fault) {
      fault.left--;
      if (fault.left <= 0) faults.shift();
      return send(
        res,
        fault.fault.status,
        { Type: 'Service', message: fault.fault.message ?? fault.fault.type },
        fault.fault.type,
      );
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType !== 'Event') {
      return send(
        res,
        400,
        { Type: 'User', message: 'this fake only queues asynchronous (Event) invocations' },
        'InvalidParameterValueException',
      );
    }
    let payload: unknown;
    try {
      payload = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return send(res, 400, { Type: 'User', message: 'payload is not JSON' }, 'InvalidRequestContentException');
    }
    invocations.push({ functionName: decodeURIComponent(match[1] as string), invocationType, payload, at: Date.now() });
    res.writeHead(202, { 'x-amzn-requestid': `fake-${Date.now().toString(36)}`, 'content-length': 0 });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(port ?? 0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    invocations,
    take() {
      const out = invocations.slice(taken);
      taken = invocations.length;
      return out;
    },
    failNext(fault, times = 1) {
      faults.push({ fault, left: times });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  if (res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}
