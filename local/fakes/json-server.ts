import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward, readBody } from './http.ts';

/** A modeled AWS error: the SDK turns `__type` into its typed exception class. */
export class FakeAwsError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'FakeAwsError';
    this.type = type;
    this.status = status;
  }
}

export interface FakeCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  readonly at: number;
}

export type FakeOperation = (input: Record<string, unknown>) => unknown;

export interface FakeFault {
  readonly type: string;
  readonly message?: string;
  readonly status?: number;
  /** Wait this long before answering (to test timeouts and deadlines). */
  readonly delayMs?: number;
}

export interface JsonFake {
  readonly url: string;
  readonly calls: FakeCall[];
  /** The next `times` calls of `operation` fail with `fault` (Infinity: every call). */
  failNext(operation: string, fault: FakeFault, times?: number): void;
  /** Every call of `operation` waits `ms` before it is answered. */
  delay(operation: string, ms: number): void;
  /** Forgets the faults still queued (for `operation`, or all), so a test that faults every call leaves none behind. */
  clearFaults(operation?: string): void;
  callsOf(operation: string): FakeCall[];
  close(): Promise<void>;
}

export interface JsonFakeOptions {
  /** Operations this fake answers, by name (the part of X-Amz-Target after the dot). */
  readonly operations: Readonly<Record<string, FakeOperation>>;
  /** Where to forward operations this fake does not answer (a moto_server URL), if anywhere. */
  readonly fallback?: string;
  readonly port?: number;
}

/**
 * A small AWS JSON-protocol (X-Amz-Target) server on 127.0.0.1 for the APIs moto_server lacks.
 * Point the real SDK at it with AWS_ENDPOINT_URL_<SERVICE>.
 */
export async function startJsonFake(options: JsonFakeOptions): Promise<JsonFake> {
  const calls: FakeCall[] = [];
  const faults = new Map<string, { fault: FakeFault; left: number }[]>();
  const delays = new Map<string, number>();

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, 500, { __type: 'InternalFailure', message: String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.lastIndexOf('.') + 1);
    const handler = options.operations[operation];
    if (!handler && !options.fallback) {
      return send(res, 400, {
        __type: 'UnknownOperationException',
        message: `fake does not implement ${operation || '(no X-Amz-Target)'}`,
      });
    }
    let input: Record<string, unknown> = {};
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      if (handler) return send(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }
    calls.push({ operation, input, at: Date.now() });
    // Delays and faults apply to forwarded operations too, so a test can fault what moto_server answers.
    const wait = delays.get(operation) ?? 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const queue = faults.get(operation);
    const next = queue?.[0];
    if (next) {
      next.left--;
      if (next.left <= 0) queue.shift();
      if (next.fault.delayMs) await new Promise((r) => setTimeout(r, next.fault.delayMs));
      return send(res, next.fault.status ?? 400, {
        __type: next.fault.type,
        message: next.fault.message ?? next.fault.type,
      });
    }
    if (!handler)
      return forward(options.fallback as string, req, body, res, (message) =>
        send(res, 502, { __type: 'InternalFailure', message: `fallback unreachable: ${message}` }),
      );
    try {
      const output = await handler(input);
      send(res, 200, output ?? {});
    } catch (error) {
      if (error instanceof FakeAwsError) return send(res, error.status, { __type: error.type, message: error.message });
      throw error;
    }
  }

  // Idle keep-alive connections stay open a minute, as AWS endpoints keep them: with Node's 5 s default,
  // a client that reuses a connection just as the server closes it gets "socket hang up", which AWS does not
  // cause (seen in the fleet bench, where reads wait for seconds between retries).
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(operation, fault, times = 1) {
      const queue = faults.get(operation) ?? [];
      queue.push({ fault, left: times });
      faults.set(operation, queue);
    },
    delay(operation, ms) {
      delays.set(operation, ms);
    },
    clearFaults(operation) {
      if (operation === undefined) faults.clear();
      else faults.delete(operation);
    },
    callsOf(operation) {
      return calls.filter((c) => c.operation === operation);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': `fake-${Date.now().toString(36)}`,
  });
  res.end(text);
}
