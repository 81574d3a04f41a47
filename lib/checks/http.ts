import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Observation } from '../core/types.ts';
import { PlanError } from '../spec/errors.ts';
import { echo, type Fields, join } from '../spec/fields.ts';
import { type BodyBudget, BodyBudgetError, type BodyReservation, functionBodyBudget } from './body-budget.ts';
import { bodyMismatch, compileBodyExpect, needsBody, readBodyExpect } from './body-expect.ts';
import { EgressRefusedError, type ProbeGuard, probeGuard } from './egress.ts';
import type { CheckKind } from './kind.ts';
import { isSensitiveHeader } from './redact.ts';
import { httpsTls, readTls, type TlsOptions, type TlsSpec } from './tls.ts';

export interface HttpExpect {
  /** Inclusive [min, max] ranges; a single status is [s, s]. */
  readonly status: readonly (readonly [number, number])[];
  readonly bodyContains?: string;
  readonly bodyMatches?: string;
  /** Dotted paths (`data.items[0].id`) to the value each must equal. */
  readonly json?: Readonly<Record<string, unknown>>;
  /** Response header (case-insensitive) to the exact value it must have. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly maxLatencyMs?: number;
}

export interface HttpSpec {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly expect: HttpExpect;
  /** How many redirects to follow; 0 evaluates the redirect response itself. */
  readonly followRedirects: number;
  readonly maxBodyBytes: number;
  /** Headers whose values hold the plan's secrets (set as they are filled): credentials, whatever their name. */
  readonly secretHeaders?: readonly string[];
  /** The body holds a plan secret: a redirect to another origin that would re-send it fails instead. */
  readonly secretBody?: boolean;
  /** A private CA or self-signed certificate to trust, the name to verify (lib/checks/tls.ts): https only. */
  readonly tls?: TlsSpec;
}

export const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const expectFields = ['status', 'bodyContains', 'bodyMatches', 'json', 'headers', 'maxLatency'] as const;
const defaultMaxBodyBytes = 1024 * 1024;

export const httpCheck: CheckKind<HttpSpec> = {
  parse(raw, path, f) {
    const url = f.string(raw.url, join(path, 'url'), { max: 2048 });
    const method = raw.method === undefined ? 'GET' : f.oneOf(raw.method, join(path, 'method'), methods);
    const headers = raw.headers === undefined ? {} : f.headers(raw.headers, join(path, 'headers'));
    let body: string | undefined;
    if (raw.body !== undefined) {
      body = typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body);
      if (body === undefined || body.length > 64 * 1024)
        f.problem(join(path, 'body'), 'expected a string or JSON value of at most 64 KiB');
    }
    const expect = readExpect(raw.expect, join(path, 'expect'), f);
    let followRedirects = 0;
    if (raw.followRedirects === true) followRedirects = 5;
    else if (raw.followRedirects !== undefined && raw.followRedirects !== false) {
      followRedirects = f.integer(raw.followRedirects, join(path, 'followRedirects'), 0, 10) ?? 0;
    }
    const maxBodyBytes =
      raw.maxBodyBytes === undefined
        ? defaultMaxBodyBytes
        : (f.integer(raw.maxBodyBytes, join(path, 'maxBodyBytes'), 0, 10 * 1024 * 1024) ?? defaultMaxBodyBytes);
    const tls = raw.tls === undefined ? undefined : readTls(raw.tls, join(path, 'tls'), f);
    if (url === undefined || method === undefined || headers === undefined || expect === undefined) return undefined;
    if (raw.tls !== undefined && tls === undefined) return undefined;
    const spec: HttpSpec = { url, method, headers, expect, followRedirects, maxBodyBytes };
    return { ...spec, ...(body === undefined ? {} : { body }), ...(tls === undefined ? {} : { tls }) };
  },

  bufferedBodyBytes(spec) {
    return needsBody(spec.expect) ? spec.maxBodyBytes : 0;
  },

  create(spec, deps, path) {
    const url = parseTarget(spec.url, join(path, 'url'));
    compileBodyExpect(spec.expect, join(path, 'expect'));
    const guard = probeGuard({ egress: deps.egress, ownHost: url.hostname, pinned: deps.pinned, lookup: deps.lookup });
    const refused = guard.refuse(url);
    if (refused) throw new PlanError([`${join(path, 'url')}: refused: ${refused}`]);
    const tls = httpsTls(spec.tls, url, path);
    // Without an invocation's budget (a unit test, a one-off measurement) the check has one of its own.
    const budget = deps.bodyBudget ?? functionBodyBudget();
    return (signal) => probe(spec, url, guard, budget, signal, tls);
  },
};

function readExpect(value: unknown, path: string, f: Fields): HttpExpect | undefined {
  const raw = value === undefined ? {} : f.object(value, path, expectFields);
  if (!raw) return undefined;
  const status: [number, number][] = [];
  if (raw.status === undefined) status.push([200, 299]);
  else {
    const list = Array.isArray(raw.status) ? raw.status : [raw.status];
    list.forEach((item, i) => {
      const at = Array.isArray(raw.status) ? join(join(path, 'status'), i) : join(path, 'status');
      const range = readStatus(item);
      if (range) status.push(range);
      else
        f.problem(
          at,
          `expected an integer 100-599, a class such as "2xx", or a range such as "200-299", got ${echo(item)}`,
        );
    });
    if (list.length === 0) f.problem(join(path, 'status'), 'must list at least one status');
  }
  const out: {
    -readonly [K in keyof HttpExpect]: HttpExpect[K];
  } = { status };
  Object.assign(out, readBodyExpect(raw, path, f, 'data.items[0].id'));
  if (raw.headers !== undefined) {
    const headers = f.headers(raw.headers, join(path, 'headers'));
    if (headers) out.headers = headers;
  }
  if (raw.maxLatency !== undefined) {
    const ms = f.duration(raw.maxLatency, join(path, 'maxLatency'), 900_000);
    if (ms !== undefined) out.maxLatencyMs = ms;
  }
  return out;
}

function readStatus(item: unknown): [number, number] | undefined {
  if (typeof item === 'number') {
    return Number.isInteger(item) && item >= 100 && item <= 599 ? [item, item] : undefined;
  }
  if (typeof item !== 'string') return undefined;
  const cls = /^([1-5])xx$/i.exec(item);
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
  const range = /^(\d{3})\s*-\s*(\d{3})$/.exec(item);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo >= 100 && hi <= 599 && lo <= hi) return [lo, hi];
  }
  if (/^\d{3}$/.test(item)) return readStatus(Number(item));
  return undefined;
}

function parseTarget(text: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PlanError([`${path}: not a valid absolute URL: ${redact(text)}`]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PlanError([`${path}: only http and https URLs can be probed, got ${url.protocol}`]);
  }
  return url;
}

/** A URL safe to log: no credentials, no query string, no fragment. */
export function redact(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

interface Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Empty when the body was not kept. */
  readonly body: Buffer;
  /** Bytes the body had, kept or not, up to `maxBytes`. */
  readonly bodyBytes: number;
  readonly truncated: boolean;
  readonly url: URL;
}

/** How `send` reads a response body. */
interface BodyReading {
  /** Read at most this many bytes, then close the connection. */
  readonly maxBytes: number;
  /** Whether to keep the body of a response with this status and Location; otherwise it is drained. */
  readonly keep: (status: number, location: string | undefined) => boolean;
  /** Where kept bytes are taken from; a body that does not fit fails the read with a `BodyBudgetError`. */
  readonly reservation: BodyReservation;
}

async function probe(
  spec: HttpSpec,
  target: URL,
  guard: ProbeGuard,
  budget: BodyBudget,
  signal: AbortSignal,
  tls?: TlsOptions,
): Promise<Observation> {
  const started = performance.now();
  // The plan's CA and server name are for the host it targets: a hop to another host is verified the
  // default way (system CAs, that host's name), so `serverName` never vouches for a host it does not name.
  const tlsFor = (u: URL): TlsOptions | undefined =>
    tls !== undefined && u.protocol === 'https:' && u.hostname === target.hostname ? tls : undefined;
  const reservation = budget.open();
  try {
    let url = target;
    let method = spec.method;
    let body = spec.body;
    let headers = spec.headers;
    let response: Response;
    for (let hop = 0; ; hop++) {
      // Only the response the expectations judge is kept, and only when they read its body.
      const following = hop < spec.followRedirects;
      const keep = (status: number, location: string | undefined): boolean =>
        needsBody(spec.expect) && !(following && isRedirect(status) && location !== undefined);
      try {
        response = await send(
          url,
          method,
          headers,
          body,
          { maxBytes: spec.maxBodyBytes, keep, reservation },
          guard,
          signal,
          tlsFor(url),
        );
      } catch (error) {
        // A probe the allowlist refused was never sent: a failure of the plan's rules, never a pass.
        if (error instanceof EgressRefusedError && !signal.aborted) {
          return { outcome: 'fail', message: `${method} ${redact(url)}: refused: ${error.message}` };
        }
        const why = describeNetworkError(error, signal, tlsFor(url));
        return { outcome: 'error', message: `${method} ${redact(url)}: ${why}` };
      }
      const location = response.headers.location;
      if (!isRedirect(response.status) || !location || !following) break;
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return {
          outcome: 'fail',
          message: `${method} ${redact(url)}: redirect to an invalid location`,
          value: response.status,
        };
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return {
          outcome: 'fail',
          message: `${method} ${redact(url)}: redirect to unsupported scheme ${next.protocol}`,
          value: response.status,
        };
      }
      const refused = guard.refuseHop(target, url, next);
      if (refused) {
        return {
          outcome: 'fail',
          message: `${method} ${redact(url)}: redirect to ${redact(next)} refused: ${refused}`,
          value: response.status,
        };
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      if (next.origin !== url.origin) {
        headers = withoutCredentials(headers, spec.secretHeaders);
        if (body !== undefined && spec.secretBody === true) {
          const message = `${method} ${redact(url)}: redirect to ${redact(next)} refused: it would send the body's secret to another origin`;
          return { outcome: 'fail', message, value: response.status };
        }
      }
      url = next;
    }
    const latencyMs = Math.round(performance.now() - started);
    return assertResponse(spec.expect, method, response, latencyMs, spec.followRedirects);
  } finally {
    reservation.release();
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status <= 399;
}

/** Credentials meant for the plan's target never follow a redirect to another origin (as fetch and curl do). */
function withoutCredentials(
  headers: Readonly<Record<string, string>>,
  secretHeaders: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !isSensitiveHeader(name) && !secretHeaders.includes(name)),
  );
}

function assertResponse(
  expect: HttpExpect,
  method: string,
  r: Response,
  latencyMs: number,
  followRedirects: number,
): Observation {
  const where = `${method} ${redact(r.url)}`;
  const fail = (why: string): Observation => ({ outcome: 'fail', message: `${where}: ${why}`, value: r.status });
  if (!expect.status.some(([lo, hi]) => r.status >= lo && r.status <= hi)) {
    const redirect =
      r.status >= 300 && r.status <= 399 && r.headers.location
        ? followRedirects > 0
          ? ` (redirect limit of ${followRedirects} reached)`
          : ' (redirect not followed)'
        : '';
    return fail(`status ${r.status}${redirect}, expected ${expect.status.map(formatRange).join(', ')}`);
  }
  if (expect.maxLatencyMs !== undefined && latencyMs > expect.maxLatencyMs) {
    return fail(`took ${latencyMs} ms, more than maxLatency ${expect.maxLatencyMs} ms`);
  }
  for (const [name, want] of Object.entries(expect.headers ?? {})) {
    const got = r.headers[name.toLowerCase()];
    const value = Array.isArray(got) ? got.join(', ') : got;
    if (value !== want)
      return fail(
        `header ${name} is ${value === undefined ? 'missing' : JSON.stringify(short(value))}, expected ${JSON.stringify(short(want))}`,
      );
  }
  if (needsBody(expect)) {
    if (r.truncated)
      return fail(`body is larger than maxBodyBytes (${r.bodyBytes} bytes read); body checks need the whole body`);
    const why = bodyMismatch(expect, r.body.toString('utf8'), 'body', 80);
    if (why !== undefined) return fail(why);
  }
  return { outcome: 'pass', message: `${where}: ${r.status} in ${latencyMs} ms`, value: r.status };
}

function send(
  url: URL,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: string | undefined,
  reading: BodyReading,
  guard: ProbeGuard,
  signal: AbortSignal,
  tls?: TlsOptions,
): Promise<Response> {
  return new Promise((resolveSend, rejectSend) => {
    if (signal.aborted) {
      rejectSend(signal.reason);
      return;
    }
    // The signal is watched only while the exchange is under way, not through Node's `signal` option:
    // the analysis aborts each measurement's signal once it is done, and aborting a request that has
    // already answered destroys it with an AbortError whose stack Node formats, which under
    // --enable-source-maps decodes the whole bundle's source map (tens of MB, tens of ms).
    const onAbort = (): void => {
      rejectSend(signal.reason);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
    };
    const resolve = (response: Response): void => {
      signal.removeEventListener('abort', onAbort);
      resolveSend(response);
    };
    const reject = (error: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      rejectSend(error);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing: Record<string, string> = { 'user-agent': 'greenlight', ...headers };
    if (body !== undefined) {
      outgoing['content-length'] = String(Buffer.byteLength(body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        outgoing['content-type'] = 'application/json';
      }
    }
    const options = { method, headers: outgoing, agent: false, lookup: guard.lookup, ...tls } as const;
    const req = request(url, options, (res) => {
      const { maxBytes, reservation } = reading;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const keep = reading.keep(res.statusCode ?? 0, location);
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      let stopped = false;
      const finish = (): void => {
        const kept = keep ? Buffer.concat(chunks) : Buffer.alloc(0);
        chunks.length = 0;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: kept, bodyBytes: size, truncated, url });
      };
      res.on('data', (chunk: Buffer) => {
        if (truncated || stopped) return;
        const room = maxBytes - size;
        const part = chunk.length > room ? chunk.subarray(0, Math.max(0, room)) : chunk;
        // A kept byte is memory until the measurement ends: it comes out of the invocation's budget first.
        if (keep && part.length > 0 && !reservation.take(part.length)) {
          stopped = true;
          chunks.length = 0;
          res.destroy();
          reject(reservation.exceeded());
          return;
        }
        // A body no expectation reads is counted and dropped, never held.
        if (keep && part.length > 0) chunks.push(part);
        size += part.length;
        if (chunk.length > room) {
          truncated = true;
          // Enough read: stop the transfer instead of draining a huge body.
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', (error) => {
        if (!truncated && !stopped) reject(error);
      });
      res.on('aborted', () => {
        if (!truncated && !stopped) reject(new Error('connection closed before the response body ended'));
      });
    });
    req.on('error', reject);
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

function describeNetworkError(error: unknown, signal: AbortSignal, tls?: TlsOptions): string {
  if (error instanceof BodyBudgetError) return error.message;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'aborted';
  }
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS lookup failed (${e.code})`;
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      // Say which trust was applied, so that a private CA's listener shows what the plan lacks.
      return `TLS certificate rejected (${e.code}): not issued by ${tls?.ca ? "the check's tls.ca" : 'a CA the system trusts (a private CA goes in tls.ca)'}`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate rejected (${e.code}): it is not for ${tls?.servername ? `${tls.servername} (tls.serverName)` : "the URL's host (tls.serverName sets the name to verify)"}`;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return `TLS certificate rejected (${e.code})`;
    default:
      return e?.message ? short(e.message, 200) : 'request failed';
  }
}

function formatRange([lo, hi]: readonly [number, number]): string {
  if (lo === hi) return String(lo);
  if (lo % 100 === 0 && hi === lo + 99) return `${lo / 100}xx`;
  return `${lo}-${hi}`;
}

function short(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
