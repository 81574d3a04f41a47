import type { Observation } from '../core/types.ts';
import { formatDuration, join } from '../spec/fields.ts';
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
import { fillQuery, placeDatadog } from './query-fill.ts';
import type { TlsSpec } from './tls.ts';

/**
 * A Datadog metrics query (v1 `GET /api/v1/query?from&to&query`, which answers `series[].pointlist`
 * of `[epoch ms, value | null]`: https://docs.datadoghq.com/api/latest/metrics/#query-timeseries-points)
 * judged against a threshold the way cloudwatch-metric is.
 */
export interface DatadogSpec extends MetricThreshold {
  readonly query: string;
  /** The API base: `https://api.<site>`, or the plan's `url` (a proxy, or a local server in tests). */
  readonly endpoint: string;
  readonly windowMs: number;
  /** `{{secret:name}}` references, sent as DD-API-KEY and DD-APPLICATION-KEY. */
  readonly apiKey: string;
  readonly applicationKey: string;
  readonly maxBodyBytes: number;
  /** A private CA or self-signed certificate to trust, the name to verify (lib/checks/tls.ts): a proxy's `url`. */
  readonly tls?: TlsSpec;
}

/** Datadog sites: datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com, ddog-gov.com, ... */
export const sitePattern = /^(?:[a-z0-9]+\.)?(?:datadoghq\.com|datadoghq\.eu|ddog-gov\.com)$/;

export const datadogCheck: CheckKind<DatadogSpec> = {
  parse(raw, path, f) {
    const before = f.issues.length;
    const query = f.string(raw.query, join(path, 'query'), { max: 4096 });
    if (query?.includes('{{secret:'))
      f.problem(join(path, 'query'), 'must not use secrets: a query is sent in the URL');
    let endpoint: string | undefined;
    if (raw.url !== undefined && raw.site !== undefined) f.problem(path, 'give site or url, not both');
    else if (raw.url !== undefined) endpoint = f.string(raw.url, join(path, 'url'), { max: 2048 });
    else {
      const site =
        raw.site === undefined
          ? 'datadoghq.com'
          : f.string(raw.site, join(path, 'site'), {
              max: 64,
              pattern: sitePattern,
              patternText: 'a Datadog site such as datadoghq.com, datadoghq.eu or us3.datadoghq.com',
            });
      // The site as the browser shows it (app.datadoghq.com) has its API at api.datadoghq.com.
      if (site !== undefined) endpoint = `https://api.${site.replace(/^app\./, '')}`;
    }
    const windowMs =
      raw.window === undefined ? 300_000 : f.duration(raw.window, join(path, 'window'), 7 * 24 * 3_600_000);
    if (windowMs !== undefined && windowMs < 1000) f.problem(join(path, 'window'), 'must be at least 1s');
    const key = (name: 'apiKey' | 'applicationKey'): string | undefined =>
      f.string(raw[name], join(path, name), {
        pattern: secretOnly,
        patternText: 'a {{secret:name}} reference (never the key itself)',
      });
    const apiKey = key('apiKey');
    const applicationKey = key('applicationKey');
    const { maxBodyBytes, threshold, tls } = readProviderFields(raw, path, f);
    if (
      f.issues.length > before ||
      query === undefined ||
      endpoint === undefined ||
      windowMs === undefined ||
      apiKey === undefined ||
      applicationKey === undefined ||
      maxBodyBytes === undefined ||
      threshold === undefined
    ) {
      return undefined;
    }
    return {
      query,
      endpoint,
      windowMs,
      apiKey,
      applicationKey,
      maxBodyBytes,
      ...threshold,
      ...(tls !== undefined ? { tls } : {}),
    };
  },

  prepare(spec, context, path) {
    return { ...spec, query: fillQuery(spec.query, context, placeDatadog(join(path, 'query'))) };
  },

  bufferedBodyBytes(spec) {
    return spec.maxBodyBytes;
  },

  create(spec, deps, path) {
    const { base, guard, tls } = providerTarget(spec.endpoint, spec.tls, deps, path);
    const headers = { 'dd-api-key': spec.apiKey, 'dd-application-key': spec.applicationKey };
    const what = `Datadog ${clip(spec.query, 100)}`;
    const window = formatDuration(spec.windowMs);

    return async (signal): Promise<Observation> => {
      const now = deps.clock.now();
      const url = new URL(base);
      url.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/query`;
      url.search = '';
      url.searchParams.set('from', String(Math.floor((now - spec.windowMs) / 1000)));
      url.searchParams.set('to', String(Math.floor(now / 1000)));
      url.searchParams.set('query', spec.query);
      let response: Awaited<ReturnType<typeof providerGet>>;
      try {
        response = await providerGet(url, headers, guard, spec.maxBodyBytes, signal, deps.bodyBudget, tls);
      } catch (error) {
        return transportError(what, error, signal);
      }
      return judgeResponse(spec, response, what, window);
    };
  },
};

function judgeResponse(
  spec: DatadogSpec,
  r: { status: number; body: string; truncated: boolean },
  what: string,
  window: string,
): Observation {
  if (r.truncated) {
    return { outcome: 'error', message: `${what}: response larger than maxBodyBytes (${spec.maxBodyBytes})` };
  }
  const doc = parseJson(r.body) as Record<string, unknown> | undefined;
  const isObject = doc !== null && typeof doc === 'object' && !Array.isArray(doc);
  if (r.status < 200 || r.status > 299 || !isObject || doc.status === 'error') {
    // Errors come as {"errors": ["..."]} (400, 403, 429) or, with a 200, {"status": "error", "error": "..."}.
    const said = !isObject
      ? `not JSON (${r.body.slice(0, 60)})`
      : Array.isArray(doc.errors)
        ? doc.errors.filter((e) => typeof e === 'string').join('; ')
        : typeof doc.error === 'string'
          ? doc.error
          : 'no error message';
    return { outcome: 'error', message: `${what}: HTTP ${r.status}: ${clip(said)}` };
  }
  if (!Array.isArray(doc.series))
    return { outcome: 'error', message: `${what}: unexpected response shape (no series)` };
  const series: { label: string; values: number[]; timestamps: number[] }[] = [];
  for (const s of doc.series as unknown[]) {
    const item = s as { pointlist?: unknown; scope?: unknown; expression?: unknown } | null;
    if (item === null || typeof item !== 'object' || !Array.isArray(item.pointlist)) {
      return { outcome: 'error', message: `${what}: unexpected response shape (a series without pointlist)` };
    }
    const values: number[] = [];
    const timestamps: number[] = [];
    for (const point of item.pointlist) {
      if (!Array.isArray(point) || typeof point[0] !== 'number') {
        return { outcome: 'error', message: `${what}: unexpected response shape (a point is not [time, value])` };
      }
      // Datadog writes null for an interval without data.
      if (typeof point[1] === 'number' && Number.isFinite(point[1])) {
        timestamps.push(point[0]);
        values.push(point[1]);
      }
    }
    const label =
      typeof item.scope === 'string' ? item.scope : typeof item.expression === 'string' ? item.expression : '';
    series.push({ label: clip(label, 120), values, timestamps });
  }
  const judged = series
    .filter((s) => s.values.length > 0)
    .map((s) => ({ s, value: reduceValues(s.values, s.timestamps, spec.reduce) }));
  if (judged.length === 0) return noDataObservation(spec, what, `in the last ${window}`);
  const worst = worstOf(
    judged.map((j) => j.value),
    spec.comparison,
  );
  const pick = judged.find((j) => j.value === worst) ?? (judged[0] as (typeof judged)[number]);
  const of = judged.length > 1 ? `worst of ${judged.length} series, ${pick.s.label}: ` : '';
  return thresholdObservation(
    spec,
    worst,
    what,
    `${of}${spec.reduce} of ${pick.s.values.length} points over ${window}`,
  );
}
