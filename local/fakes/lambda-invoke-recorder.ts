import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedInvocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: unknown;
  readonly at: number;
}

export interface LambdaInvokeRecorder {
  readonly url: string;
  /** Every invocation received, oldest first. */
  readonly invocations: RecordedInvocation[];
  /** Returns and forgets the invocations received so far. */
  take(): RecordedInvocation[];
  /** The next `times` invocations fail with this modeled error. */
  failNext(fault: { type: string; status?: number; message?: string }, times?: number): void;
  close(): Promise<void>;
}

/**
 * Lambda's Invoke API (REST-JSON: `POST /2015-03-31/functions/{name}/invocations`) on 127.0.0.1,
 * recording each payload instead of running anything: moto_server runs Invoke in Docker or answers
 * without the payload, and a test that drives a function's self-continuation needs the payload.
 * Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA.
 */
export async function startLambdaInvokeRecorder(): Promise<LambdaInvokeRecorder> {
  const invocations: RecordedInvocation[] = [];
  const faults: { type: string; status: number; message: string; left: number }[] = [];
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, 'ServiceException', String(error)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match?.[1]) {
      return send(res, 404, 'ResourceNotFoundException', `no route for ${req.method} ${req.url}`);
    }
    const fault = faults[0];
    if (fault) {
      fault.left--;
      if (fault.left <= 0) faults.shift();
      return send(res, fault.status, fault.type, fault.message);
    }
    let payload: unknown = null;
    try {
      payload = body.length ? JSON.parse(body.toString('utf8')) : null;
    } catch {
      return send(res, 400, 'InvalidRequestContentException', 'payload is not JSON');
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    invocations.push({ functionName: decodeURIComponent(match[1]), invocationType, payload, at: Date.now() });
    if (invocationType === 'Event') {
      res.writeHead(202, { 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
    res.end('null');
  }

  function send(res: ServerResponse, status: number, type: string, message: string): void {
    if (res.headersSent) return;
    const text = JSON.stringify({ Type: 'User', message });
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-errortype': type,
    });
    res.end(text);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    invocations,
    take() {
      return invocations.splice(0, invocations.length);
    },
    failNext(fault, times = 1) {
      faults.push({ type: fault.type, status: fault.status ?? 500, message: fault.message ?? fault.type, left: times });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
