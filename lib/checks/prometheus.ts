import type { Observation } from '../core/types.ts';
import { PlanError } from '../spec/errors.ts';
import { describe, formatDuration, join } from '../spec/fields.ts';
import type { CheckKind } from './kind.ts';
import {
  type MetricThreshold,
  noDataObservation,
  reduceValues,
  thresholdObservation,
  worstOf,
} from './metric-threshold.ts';
import {
  clip,
  parseJson,
  providerGet,
  providerTarget,
  readProviderFields,
  secretOnly,
  transportError,
} from './provider-http.ts';
import { fillQuery, placePromql } from './query-fill.ts';
import type { TlsSpec } from './tls.ts';

/** A request to sign: the method, the full URL (query string included) and the headers to send. */
export interface SigV4Request {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

/** The signing scope: `aps` for Amazon Managed Service for Prometheus. */
export interface SigV4Scope {
  readonly region: string;
  readonly service: string;
}

/** The port the prometheus kind needs for Amazon Managed Service for Prometheus: SigV4 with the function's role. */
/**
 * What the prometheus check asks of AWS: a SigV4 signer, for Amazon Managed Service for Prometheus only
 * (lib/aws/sigv4.ts implements it). Optional here, since a plain Prometheus needs none; the composition
 * root wires it always (`WiredCheckDeps`).
 */
export interface PrometheusPorts {
  readonly sigv4?: SigV4Port | undefined;
}

export interface SigV4Port {
  /** The headers to send (the given ones plus host, x-amz-date, authorization, ...). */
  sign(request: SigV4Request, scope: SigV4Scope, signal: AbortSignal): Promise<Record<string, string>>;
}

export interface PrometheusSpec extends MetricThreshold {
  /** The Prometheus HTTP API base, before `/api/v1` (an AMP workspace URL ends in `/workspaces/ws-...`). */
  readonly url: string;
  /** PromQL; `{{placeholders}}` are escaped for where they stand. */
  readonly query: string;
  /** Present: a range query over this window, reduced like cloudwatch-metric; absent: an instant query. */
  readonly windowMs?: number;
  readonly stepMs?: number;
  /** Extra request headers (a tenant header such as X-Scope-OrgID). */
  readonly headers: Readonly<Record<string, string>>;
  /** `{{secret:name}}`, sent as `Authorization: Bearer ...`. */
  readonly bearerToken?: string;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Sign with SigV4: set from the plan, or from an `aps-workspaces.<region>.amazonaws.com` URL. */
  readonly sigv4?: SigV4Scope;
  readonly maxBodyBytes: number;
  /** A private CA or self-signed certificate to trust, the name to verify (lib/checks/tls.ts). */
  readonly tls?: TlsSpec;
}

const ampHost = /^aps-workspaces(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;
export const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
/** Prometheus refuses range queries of more than 11,000 points per series. */
const maxPoints = 11_000;

export const prometheusCheck: CheckKind<PrometheusSpec, PrometheusPorts> = {
  parse(raw, path, f) {
    const before = f.issues.length;
    const url = f.string(raw.url, join(path, 'url'), { max: 2048 });
    const query = f.string(raw.query, join(path, 'query'), { max: 4096 });
    if (query?.includes('{{secret:'))
      f.problem(join(path, 'query'), 'must not use secrets: a query is sent in the URL');
    let windowMs: number | undefined;
    let stepMs: number | undefined;
    if (raw.window !== undefined) {
      windowMs = f.duration(raw.window, join(path, 'window'), 7 * 24 * 3_600_000);
      if (windowMs !== undefined && windowMs < 1000) f.problem(join(path, 'window'), 'must be at least 1s');
      stepMs =
        raw.step === undefined
          ? Math.max(1000, Math.ceil((windowMs ?? 0) / 100 / 1000) * 1000)
          : f.duration(raw.step, join(path, 'step'), 24 * 3_600_000);
      if (stepMs !== undefined && windowMs !== undefined) {
        if (stepMs < 1 || stepMs > windowMs) {
          f.problem(join(path, 'step'), `must be more than 0 and at most window (${formatDuration(windowMs)})`);
        } else if (windowMs / stepMs > maxPoints) {
          f.problem(join(path, 'step'), `window / step must be at most ${maxPoints} points`);
        }
      }
    } else if (raw.step !== undefined) f.problem(join(path, 'step'), 'needs window (a range query)');
    const headers = raw.headers === undefined ? {} : f.headers(raw.headers, join(path, 'headers'), 20);
    const bearerToken =
      raw.bearerToken === undefined
        ? undefined
        : f.string(raw.bearerToken, join(path, 'bearerToken'), {
            pattern: secretOnly,
            patternText: 'a {{secret:name}} reference (never the token itself)',
          });
    let basicAuth: PrometheusSpec['basicAuth'];
    if (raw.basicAuth !== undefined) {
      const b = f.object(raw.basicAuth, join(path, 'basicAuth'), ['username', 'password']);
      const username = b ? f.string(b.username, join(join(path, 'basicAuth'), 'username'), { max: 256 }) : undefined;
      const password = b
        ? f.string(b.password, join(join(path, 'basicAuth'), 'password'), {
            pattern: secretOnly,
            patternText: 'a {{secret:name}} reference (never the password itself)',
          })
        : undefined;
      if (username !== undefined && password !== undefined) basicAuth = { username, password };
    }
    let sigv4: SigV4Scope | undefined;
    if (raw.sigv4 !== undefined) {
      const s = f.object(raw.sigv4, join(path, 'sigv4'), ['region', 'service']);
      const region = s
        ? f.string(s.region, join(join(path, 'sigv4'), 'region'), {
            max: 32,
            pattern: regionPattern,
            patternText: 'an AWS Region such as us-east-1',
          })
        : undefined;
      const service =
        s?.service === undefined ? 'aps' : f.oneOf(s.service, join(join(path, 'sigv4'), 'service'), ['aps'] as const);
      if (region !== undefined && service !== undefined) sigv4 = { region, service };
    }
    const auths = [raw.bearerToken, raw.basicAuth, raw.sigv4].filter((x) => x !== undefined).length;
    if (auths > 1) f.problem(path, 'give one of bearerToken, basicAuth and sigv4');
    const { maxBodyBytes, threshold, tls } = readProviderFields(raw, path, f);
    if (
      f.issues.length > before ||
      url === undefined ||
      query === undefined ||
      headers === undefined ||
      maxBodyBytes === undefined ||
      threshold === undefined
    ) {
      return undefined;
    }
    return {
      url,
      query,
      headers,
      maxBodyBytes,
      ...threshold,
      ...(windowMs !== undefined && stepMs !== undefined ? { windowMs, stepMs } : {}),
      ...(bearerToken !== undefined ? { bearerToken } : {}),
      ...(basicAuth !== undefined ? { basicAuth } : {}),
      ...(sigv4 !== undefined ? { sigv4 } : {}),
      ...(tls !== undefined ? { tls } : {}),
    };
  },

  prepare(spec, context, path) {
    return { ...spec, query: fillQuery(spec.query, context, placePromql(join(path, 'query'))) };
  },

  bufferedBodyBytes(spec) {
    return spec.maxBodyBytes;
  },

  create(spec, deps, path) {
    const { base, guard, tls } = providerTarget(spec.url, spec.tls, deps, path);
    const amp = ampHost.exec(base.hostname);
    const scope = spec.sigv4 ?? (amp ? { region: amp[1] as string, service: 'aps' } : undefined);
    if (amp && (spec.bearerToken !== undefined || spec.basicAuth !== undefined)) {
      throw new PlanError([
        `${join(path, 'url')}: Amazon Managed Service for Prometheus takes SigV4, not bearerToken or basicAuth`,
      ]);
    }
    if (scope && !deps.sigv4) {
      throw new Error(`the prometheus check needs the SigV4 signer, which this function does not wire`);
    }
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.bearerToken !== undefined) headers.authorization = `Bearer ${spec.bearerToken}`;
    // The password itself is scrubbed by the check's redactor; its base64 form is scrubbed here.
    let encoded: string | undefined;
    if (spec.basicAuth !== undefined) {
      encoded = Buffer.from(`${spec.basicAuth.username}:${spec.basicAuth.password}`, 'utf8').toString('base64');
      headers.authorization = `Basic ${encoded}`;
    }
    const scrub = (o: Observation): Observation =>
      encoded === undefined ? o : { ...o, message: o.message.split(encoded).join('***') };
    const what = `Prometheus ${clip(spec.query, 100)}`;
    const window = spec.windowMs === undefined ? undefined : formatDuration(spec.windowMs);

    return async (signal): Promise<Observation> => {
      const now = deps.clock.now();
      const url = new URL(base);
      url.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/${spec.windowMs === undefined ? 'query' : 'query_range'}`;
      url.search = '';
      url.searchParams.set('query', spec.query);
      if (spec.windowMs === undefined) url.searchParams.set('time', seconds(now));
      else {
        url.searchParams.set('start', seconds(now - spec.windowMs));
        url.searchParams.set('end', seconds(now));
        url.searchParams.set('step', `${(spec.stepMs ?? 1000) / 1000}s`);
      }
      let sent = headers;
      let response: Awaited<ReturnType<typeof providerGet>>;
      try {
        if (scope && deps.sigv4) sent = await deps.sigv4.sign({ method: 'GET', url, headers }, scope, signal);
        response = await providerGet(url, sent, guard, spec.maxBodyBytes, signal, deps.bodyBudget, tls);
      } catch (error) {
        return scrub(transportError(what, error, signal));
      }
      return scrub(judgeResponse(spec, response, what, window, scope !== undefined));
    };
  },
};

interface Series {
  readonly labels: string;
  readonly values: number[];
  readonly timestamps: number[];
}

function judgeResponse(
  spec: PrometheusSpec,
  r: { status: number; body: string; truncated: boolean },
  what: string,
  window: string | undefined,
  signed = false,
): Observation {
  if (r.truncated) {
    return { outcome: 'error', message: `${what}: response larger than maxBodyBytes (${spec.maxBodyBytes})` };
  }
  const doc = parseJson(r.body) as Record<string, unknown> | undefined;
  const isObject = doc !== null && typeof doc === 'object' && !Array.isArray(doc);
  if (!isObject || doc.status !== 'success' || r.status < 200 || r.status > 299) {
    // The documented error envelope: {"status": "error", "errorType": "...", "error": "..."}.
    const error = isObject && typeof doc.error === 'string' ? doc.error : undefined;
    const type = isObject && typeof doc.errorType === 'string' ? `${doc.errorType}: ` : '';
    const said =
      error !== undefined ? `${type}${error}` : isObject ? 'no error message' : `not JSON (${r.body.slice(0, 60)})`;
    // A SigV4 query AWS refuses: the role lacks aps:QueryMetrics on the workspace (template.yaml grants it
    // only on the workspaces PrometheusWorkspaces names).
    const denied =
      signed && r.status === 403
        ? "; the function's role needs aps:QueryMetrics on this workspace (template parameter PrometheusWorkspaces)"
        : '';
    return { outcome: 'error', message: `${what}: HTTP ${r.status}: ${clip(said)}${denied}` };
  }
  const warnings = Array.isArray(doc.warnings)
    ? ` (Prometheus: ${clip(doc.warnings.filter((w) => typeof w === 'string').join('; '), 160)})`
    : '';
  const data = doc.data as { resultType?: unknown; result?: unknown } | undefined;
  const series = readSeries(data);
  if (series === undefined) {
    return {
      outcome: 'error',
      message: `${what}: unexpected response shape (resultType ${describe(data?.resultType)})`,
    };
  }
  const where = window === undefined ? 'now' : `in the last ${window}`;
  const judged = series
    .filter((s) => s.values.length > 0)
    .map((s) => ({ s, value: reduceValues(s.values, s.timestamps, spec.reduce) }));
  if (judged.length === 0) return noDataObservation(spec, what, where, warnings);
  const worst = worstOf(
    judged.map((j) => j.value),
    spec.comparison,
  );
  const pick = judged.find((j) => j.value === worst) ?? (judged[0] as (typeof judged)[number]);
  const of = judged.length > 1 ? `worst of ${judged.length} series, ${pick.s.labels || '{}'}: ` : '';
  const how =
    window === undefined ? `${of}value` : `${of}${spec.reduce} of ${pick.s.values.length} samples over ${window}`;
  return thresholdObservation(spec, worst, what, how, '', warnings);
}

/** The series of a vector, matrix or scalar result; NaN samples dropped; undefined for any other shape. */
function readSeries(data: { resultType?: unknown; result?: unknown } | undefined): Series[] | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const sample = (pair: unknown): [number, number] | undefined => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') {
      return undefined;
    }
    return [pair[0], sampleValue(pair[1])];
  };
  const collect = (pairs: unknown[], labels: string): Series | undefined => {
    const values: number[] = [];
    const timestamps: number[] = [];
    for (const p of pairs) {
      const s = sample(p);
      if (!s) return undefined;
      if (!Number.isNaN(s[1])) {
        timestamps.push(s[0]);
        values.push(s[1]);
      }
    }
    return { labels, values, timestamps };
  };
  switch (data.resultType) {
    case 'scalar': {
      const s = collect([data.result], '');
      return s ? [s] : undefined;
    }
    case 'vector':
    case 'matrix': {
      if (!Array.isArray(data.result)) return undefined;
      const out: Series[] = [];
      for (const item of data.result) {
        if (item === null || typeof item !== 'object') return undefined;
        const { metric, value, values } = item as { metric?: unknown; value?: unknown; values?: unknown };
        const pairs = data.resultType === 'vector' ? [value] : values;
        if (!Array.isArray(pairs)) return undefined;
        const s = collect(pairs, labelsOf(metric));
        if (!s) return undefined;
        out.push(s);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Prometheus writes sample values as strings, with `NaN`, `+Inf` and `-Inf` for the special values. */
function sampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(text);
  return text.trim() === '' ? Number.NaN : n;
}

function labelsOf(metric: unknown): string {
  if (metric === null || typeof metric !== 'object') return '';
  const pairs = Object.entries(metric as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`);
  return clip(`{${pairs.join(', ')}}`, 120);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
