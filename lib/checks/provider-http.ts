import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Observation } from '../core/types.ts';
import { PlanError } from '../spec/errors.ts';
import { type Fields, join } from '../spec/fields.ts';
import type { BodyBudget } from './body-budget.ts';
import { jsonParseCost, jsonParseMaxBytes } from './body-expect.ts';
import { EgressRefusedError, type ProbeGuard, type ProbeGuardOptions, probeGuard } from './egress.ts';
import { type MetricThreshold, readThreshold } from './metric-threshold.ts';
import { httpsTls, readTls, type TlsOptions, type TlsSpec } from './tls.ts';

/**
 * One GET to a metrics provider's HTTP API (Prometheus, Datadog): through the check's egress guard
 * (the plan's `allow`, checked on the URL and on every address the host resolves to), never following
 * a redirect, the body bounded, aborted with the measurement's signal.
 */

export interface ProviderResponse {
  readonly status: number;
  readonly body: string;
  /** The body was longer than the bound and was cut. */
  readonly truncated: boolean;
}

/**
 * A provider's endpoint as a check measures it: the URL (`providerUrl`), the guard that keeps its probes
 * where `allow` says, and the https options of its `tls`. Throws a `PlanError` naming `path`'s fields when
 * the URL is invalid, refused by the egress rules, or carries `tls` without https.
 */
export function providerTarget(
  text: string,
  tls: TlsSpec | undefined,
  deps: Omit<ProbeGuardOptions, 'ownHost'>,
  path: string,
): { readonly base: URL; readonly guard: ProbeGuard; readonly tls: TlsOptions | undefined } {
  const base = providerUrl(text, join(path, 'url'));
  const guard = probeGuard({ egress: deps.egress, ownHost: base.hostname, pinned: deps.pinned, lookup: deps.lookup });
  const refused = guard.refuse(base);
  if (refused) throw new PlanError([`${join(path, 'url')}: refused: ${refused}`]);
  return { base, guard, tls: httpsTls(tls, base, path) };
}

/** Reads `text` as an absolute http(s) URL; a `PlanError` naming `path` when it is not one. */
export function providerUrl(text: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PlanError([`${path}: not a valid absolute URL`]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PlanError([`${path}: only http and https URLs, got ${url.protocol}`]);
  }
  if (url.username || url.password) throw new PlanError([`${path}: credentials do not belong in the URL`]);
  return url;
}

/**
 * GETs `url`; rejects on a transport failure, an egress refusal, an abort, or (with a `BodyBudgetError`)
 * a body the invocation's shared body budget cannot hold. The body's bytes are held from `budget`
 * while it is read, so that checks reading at the same time cannot together exceed the function's memory.
 */
export function providerGet(
  url: URL,
  headers: Readonly<Record<string, string>>,
  guard: ProbeGuard,
  maxBytes: number,
  signal: AbortSignal,
  budget?: BodyBudget,
  tls?: TlsOptions,
): Promise<ProviderResponse> {
  const reservation = budget?.open();
  return read(url, headers, guard, maxBytes, signal, reservation, tls).finally(() => reservation?.release());
}

function read(
  url: URL,
  headers: Readonly<Record<string, string>>,
  guard: ProbeGuard,
  maxBytes: number,
  signal: AbortSignal,
  reservation: ReturnType<BodyBudget['open']> | undefined,
  tls: TlsOptions | undefined,
): Promise<ProviderResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => {
      done(() => reject(signal.reason));
      req.destroy();
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'greenlight', accept: 'application/json', ...headers },
        agent: false,
        lookup: guard.lookup,
        ...tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (truncated: boolean): void =>
          done(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), truncated }));
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          const room = maxBytes - size;
          const kept = Math.min(chunk.length, Math.max(0, room));
          if (reservation !== undefined && !reservation.take(kept)) {
            done(() => reject(reservation.exceeded()));
            res.destroy();
            return;
          }
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, Math.max(0, room)));
            // Settled first: destroying the response emits 'aborted', which must not turn this into a reject.
            finish(true);
            res.destroy();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => finish(false));
        res.on('error', (error) => done(() => reject(error)));
        res.on('aborted', () => done(() => reject(new Error('connection closed before the response ended'))));
      },
    );
    req.on('error', (error) => done(() => reject(error)));
    signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}

/** A transport failure as an `error` measurement ("could not measure"), never a pass. */
export function transportError(what: string, error: unknown, signal: AbortSignal): Observation {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'aborted';
    return { outcome: 'error', message: `${what}: ${why}` };
  }
  if (error instanceof EgressRefusedError) return { outcome: 'error', message: `${what}: refused: ${error.message}` };
  const e = error as NodeJS.ErrnoException | undefined;
  const why =
    e?.code === 'ECONNREFUSED'
      ? 'connection refused'
      : e?.code === 'ECONNRESET'
        ? 'connection reset'
        : e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN'
          ? `DNS lookup failed (${e.code})`
          : clip(e?.message ?? 'request failed', 200);
  return { outcome: 'error', message: `${what}: ${why}` };
}

/**
 * The provider's own words, made safe for a verdict: one line, printable characters only, at most
 * `max` characters. (Secret values are scrubbed from every report by the check's redactor.)
 */
export function clip(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is removed.
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** Parses a JSON body; undefined when it is not JSON, or too large to parse within memory (`jsonParseMaxBytes`). */
export function parseJson(text: string): unknown {
  if (jsonParseCost(text) > jsonParseMaxBytes) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{{secret:name}}` and nothing else: credentials never sit in a plan as plain text. */
export const secretOnly = /^\{\{\s*secret:[A-Za-z][A-Za-z0-9_-]{0,63}\s*\}\}$/;

/** A provider response is read up to this many bytes unless the plan says otherwise. */
const defaultProviderMaxBodyBytes = 1024 * 1024;

/**
 * The fields every metrics provider kind reads alike (prometheus, datadog): `maxBodyBytes` (1 KiB to
 * 10 MiB, default 1 MiB), the threshold vocabulary of cloudwatch-metric and an optional `tls` block.
 * Problems go to `f`, naming the field under `path`; a field that could not be read is undefined.
 */
export function readProviderFields(
  raw: Record<string, unknown>,
  path: string,
  f: Fields,
): { maxBodyBytes?: number | undefined; threshold?: MetricThreshold | undefined; tls?: TlsSpec | undefined } {
  return {
    maxBodyBytes:
      raw.maxBodyBytes === undefined
        ? defaultProviderMaxBodyBytes
        : f.integer(raw.maxBodyBytes, join(path, 'maxBodyBytes'), 1024, 10 * 1024 * 1024),
    threshold: readThreshold(raw, path, f),
    tls: raw.tls === undefined ? undefined : readTls(raw.tls, join(path, 'tls'), f),
  };
}
