import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Version = 'blue' | 'green';

/** How green behaves in a scenario. Blue is always healthy. */
export type GreenBehaviour = 'healthy' | 'slow' | 'failing' | 'flaky';

export interface DemoService {
  readonly blue: { readonly url: string; readonly port: number };
  readonly green: { readonly url: string; readonly port: number };
  /** The load balancer's listeners: each forwards to blue or green, as the deployment shifts traffic. */
  readonly prodListenerPort: number;
  readonly testListenerPort: number;
  route(listener: 'prod' | 'test', to: Version): void;
  routes(): { readonly prod: Version; readonly test: Version };
  /** A new hook or stage begins: the flaky pattern starts over, so each one sees the same one bad probe. */
  newStep(): void;
  /** Which version the production listener serves right now, asked through the listener itself. */
  servingProduction(): Promise<Version | 'unknown'>;
  close(): Promise<void>;
}

/** How long slow green takes to answer /health: well over the plan's maxLatency (300ms), within its timeout (1s). */
export const slowGreenMs = 600;
/** Which /health request of each step flaky green fails (1-based). */
export const flakyRequest = 2;

/**
 * A small web service in two versions, blue (v1, serving production) and green (v2, being
 * deployed), each on its own loopback port, and two listener ports in front of them that stand for
 * the load balancer's production and test listeners. Routes: /health (JSON status), /version, /.
 */
export async function startDemoService(green: GreenBehaviour): Promise<DemoService> {
  let healthHits = 0;
  const blueServer = await listen(version('blue', 'healthy', () => 0));
  const greenServer = await listen(version('green', green, () => ++healthHits));
  const targets: Record<Version, number> = { blue: port(blueServer), green: port(greenServer) };
  const current = { prod: 'blue' as Version, test: 'blue' as Version };
  const prod = await listen(forward(() => targets[current.prod]));
  const test = await listen(forward(() => targets[current.test]));
  const servers = [blueServer, greenServer, prod, test];
  return {
    blue: { url: `http://127.0.0.1:${targets.blue}`, port: targets.blue },
    green: { url: `http://127.0.0.1:${targets.green}`, port: targets.green },
    prodListenerPort: port(prod),
    testListenerPort: port(test),
    route(listener, to) {
      current[listener] = to;
    },
    routes: () => ({ ...current }),
    newStep() {
      healthHits = 0;
    },
    async servingProduction() {
      try {
        const res = await fetch(`http://127.0.0.1:${port(prod)}/version`, { signal: AbortSignal.timeout(2_000) });
        const body = (await res.json()) as { version?: unknown };
        return body.version === 'blue' || body.version === 'green' ? body.version : 'unknown';
      } catch {
        return 'unknown';
      }
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function version(name: Version, behaviour: GreenBehaviour, nextHealthHit: () => number): Handler {
  const number = name === 'blue' ? 'v1' : 'v2';
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-version': name,
    });
    res.end(text);
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (behaviour === 'failing') {
      send(res, 500, { status: 'error', version: name, error: 'green cannot reach its database' });
      return;
    }
    if (path === '/health') {
      const hit = nextHealthHit();
      if (behaviour === 'flaky' && hit === flakyRequest) {
        send(res, 503, { status: 'unavailable', version: name });
        return;
      }
      const answer = () => send(res, 200, { status: 'ok', version: name });
      if (behaviour === 'slow') setTimeout(answer, slowGreenMs);
      else answer();
      return;
    }
    if (path === '/version') {
      send(res, 200, { version: name, release: number });
      return;
    }
    if (path === '/') {
      send(res, 200, { service: 'greenlight demo', version: name, release: number });
      return;
    }
    send(res, 404, { error: 'not found' });
  };
}

/** A listener: forwards each request to the version it currently routes to. */
function forward(target: () => number): Handler {
  return (req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port: target(), path: req.url, method: req.method, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    req.pipe(upstream);
  };
}

async function listen(handler: Handler): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}
