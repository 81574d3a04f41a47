import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward, readBody } from './http.ts';

/** What one invocation of a fake function returns. */
export interface FakeInvocation {
  /** The response payload (JSON text for most runtimes). */
  readonly payload?: string;
  /** `Unhandled` (the runtime caught an exception) or `Handled`; absent on success. */
  readonly functionError?: string;
  /** Defaults to the numeric qualifier, else `1`. */
  readonly executedVersion?: string;
  /** Wait this long before answering (to test timeouts and deadlines). */
  readonly delayMs?: number;
}

export type FakeFunction = (payload: string, qualifier: string | undefined) => FakeInvocation;

export interface LambdaFault {
  /** The error code the SDK turns into its class, e.g. TooManyRequestsException. */
  readonly type: string;
  readonly status: number;
  readonly message?: string;
}

export interface LambdaInvokeCall {
  readonly functionName: string;
  readonly qualifier?: string;
  readonly payload: string;
  readonly invocationType?: string;
}

export interface LambdaFake {
  readonly url: string;
  readonly calls: LambdaInvokeCall[];
  /**
   * Defines (or replaces) a function; `'fallback'` sends its invocations to the fallback server.
   * Unknown functions answer ResourceNotFoundException, as Lambda does.
   */
  define(functionName: string, fn: FakeFunction | 'fallback'): void;
  /** The next `times` invocations fail with `fault` (Infinity: every one). */
  failNext(fault: LambdaFault, times?: number): void;
  close(): Promise<void>;
}

/**
 * AWS Lambda's `Invoke` (REST-JSON, `POST /2015-03-31/functions/{name}/invocations?Qualifier=`) on
 * 127.0.0.1: moto_server only invokes through Docker, and its Docker-less mode always succeeds, so
 * function errors, executed versions and throttling need this fake. Point the real SDK at it with
 * AWS_ENDPOINT_URL_LAMBDA. Functions defined as `'fallback'` go to `options.fallback` (a moto_server URL).
 */
export async function startLambdaFake(options: { fallback?: string } = {}): Promise<LambdaFake> {
  const functions = new Map<string, FakeFunction | 'fallback'>();
  const calls: LambdaInvokeCall[] = [];
  const faults: { fault: LambdaFault; left: number }[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => sendError(res, 500, 'ServiceException', String(error)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = raw.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      return sendError(res, 404, 'UnknownOperationException', `fake does not implement ${req.method} ${url.pathname}`);
    }
    const name = functionName(decodeURIComponent(match[1] ?? ''));
    const qualifier = url.searchParams.get('Qualifier') ?? undefined;
    const invocationType = headerOf(req, 'x-amz-invocation-type');
    calls.push({
      functionName: name,
      payload: body,
      ...(qualifier !== undefined ? { qualifier } : {}),
      ...(invocationType !== undefined ? { invocationType } : {}),
    });
    const next = faults[0];
    if (next) {
      next.left--;
      if (next.left <= 0) faults.shift();
      return sendError(res, next.fault.status, next.fault.type, next.fault.message ?? next.fault.type);
    }
    const fn = functions.get(name);
    if (fn === 'fallback') {
      if (options.fallback)
        return forward(options.fallback, req, raw, res, (message) =>
          sendError(res, 502, 'ServiceException', `fallback unreachable: ${message}`),
        );
      return sendError(res, 500, 'ServiceException', `fake has no fallback for ${name}`);
    }
    if (!fn) {
      return sendError(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${name}${qualifier ? `:${qualifier}` : ''}`,
      );
    }
    const out = fn(body, qualifier);
    if (out.delayMs) await new Promise((r) => setTimeout(r, out.delayMs));
    const payload = out.payload ?? 'null';
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': `fake-${Date.now().toString(36)}`,
      'x-amz-executed-version': out.executedVersion ?? (qualifier && /^\d+$/.test(qualifier) ? qualifier : '1'),
    };
    if (out.functionError) headers['x-amz-function-error'] = out.functionError;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, headers);
    res.end(payload);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    define(name, fn) {
      functions.set(name, fn);
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

/** A function name, partial ARN or ARN (with or without a qualifier) to the plain name. */
function functionName(ref: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:\d+:function:([^:]+)/.exec(ref);
  if (arn) return arn[1] as string;
  return ref.split(':')[0] ?? ref;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': type,
    'x-amzn-requestid': `fake-${Date.now().toString(36)}`,
  });
  res.end(text);
}
