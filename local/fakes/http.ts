import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

/** The whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Passes a request on to `base` (a moto_server URL) and its answer back. When `base` cannot be
 * reached, `unreachable` answers instead, in the protocol of the fake that forwards.
 */
export function forward(
  base: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  unreachable: (message: string) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(req.url ?? '/', base);
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', resolve);
    });
    upstream.on('error', (error) => {
      unreachable(error.message);
      resolve();
    });
    upstream.end(body);
  });
}
