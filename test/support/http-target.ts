import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpTarget {
  readonly url: string;
  readonly port: number;
  /** Requests seen, by path. */
  readonly hits: string[];
  /** Replaces how the server answers. */
  respond(route: Route): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 whose behaviour a test sets. */
export async function startHttpTarget(route: Route = (_req, res) => res.end('ok')): Promise<HttpTarget> {
  let current = route;
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    current(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    respond(next) {
      current = next;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export const json =
  (status: number, body: unknown): Route =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
