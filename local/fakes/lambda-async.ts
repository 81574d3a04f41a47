import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http.ts';

export interface AsyncInvocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: unknown;
  readonly at: number;
  /** `DurableExecutionName` (header `X-Amz-Durable-Execution-Name`): this invocation started that durable execution. */
  readonly durableExecutionName?: string;
}

/** A request to start a durable execution by name, and what Lambda made of it. */
export interface DurableStartRequest {
  readonly name: string;
  readonly functionName: string;
  /** `started`: a new execution; `existing`: the same name and payload, the execution already there; `conflict`: 409. */
  readonly outcome: 'started' | 'existing' | 'conflict';
}

/**
 * The Lambda Invoke API (REST-JSON, `POST /2015-03-31/functions/{name}/invocations`) for asynchronous
 * invocations: it queues what it is sent instead of running anything, so a test (or a local rehearsal)
 * delivers each queued event to the handler itself, as Lambda would. Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA.
 *
 * With `DurableExecutionName` it models durable executions' idempotency
 * (https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html): the name must be
 * 1-64 of `[A-Za-z0-9_-]` and the function qualified (a version or alias); a new name starts an execution
 * (queued once, answered 202 with `X-Amz-Durable-Execution-Arn`); the same name with the same payload
 * answers the existing execution and queues nothing; the same name with another payload is refused with
 * 409 `DurableExecutionAlreadyStartedException`.
 */
export interface LambdaAsyncFake {
  readonly url: string;
  /** Every accepted invocation that queued something, in order. */
  readonly invocations: AsyncInvocation[];
  /** Every request that named a durable execution, in order. */
  readonly durableStarts: DurableStartRequest[];
  /** Removes and returns the invocations not yet taken. */
  take(): AsyncInvocation[];
  /** The next `times` invocations fail with this error (Infinity: every one). */
  failNext(fault: { type: string; status: number; message?: string }, times?: number): void;
  close(): Promise<void>;
}

export async function startLambdaAsyncFake(port?: number): Promise<LambdaAsyncFake> {
  const invocations: AsyncInvocation[] = [];
  const durableStarts: DurableStartRequest[] = [];
  const executions = new Map<string, { payload: string; arn: string }>();
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
    const functionName = decodeURIComponent(match[1] as string);
    const durableName = req.headers['x-amz-durable-execution-name'];
    if (typeof durableName === 'string') {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(durableName)) {
        return send(
          res,
          400,
          { Type: 'User', message: 'DurableExecutionName is invalid' },
          'InvalidParameterValueException',
        );
      }
      const qualified =
        /^arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+:[^:]+$/.test(functionName) || /^[^:]+:[^:]+$/.test(functionName);
      if (!qualified) {
        return send(
          res,
          400,
          { Type: 'User', message: 'a durable function is invoked by a qualified ARN (a version or an alias)' },
          'InvalidParameterValueException',
        );
      }
      const canonical = JSON.stringify(payload);
      const existing = executions.get(durableName);
      if (existing) {
        if (existing.payload !== canonical) {
          durableStarts.push({ name: durableName, functionName, outcome: 'conflict' });
          return send(
            res,
            409,
            { Type: 'User', message: `durable execution ${durableName} was started with another payload` },
            'DurableExecutionAlreadyStartedException',
          );
        }
        durableStarts.push({ name: durableName, functionName, outcome: 'existing' });
        res.writeHead(202, { 'x-amz-durable-execution-arn': existing.arn, 'content-length': 0 });
        res.end();
        return;
      }
      const arn = `${functionName}/durable-execution/${durableName}/${executions.size + 1}`;
      executions.set(durableName, { payload: canonical, arn });
      durableStarts.push({ name: durableName, functionName, outcome: 'started' });
      invocations.push({ functionName, invocationType, payload, at: Date.now(), durableExecutionName: durableName });
      res.writeHead(202, { 'x-amz-durable-execution-arn': arn, 'content-length': 0 });
      res.end();
      return;
    }
    invocations.push({ functionName, invocationType, payload, at: Date.now() });
    res.writeHead(202, { 'x-amzn-requestid': `fake-${Date.now().toString(36)}`, 'content-length': 0 });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(port ?? 0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    invocations,
    durableStarts,
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
