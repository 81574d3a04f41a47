import type { Observation } from '../core/types.ts';
import { elbDimensionValue } from '../spec/arn.ts';
import { type Fields, formatDuration, join } from '../spec/fields.ts';
import type { CheckKind } from './kind.ts';
import {
  type MetricThreshold,
  noDataObservation,
  readThreshold,
  reduceValues,
  thresholdObservation,
} from './metric-threshold.ts';
import { awsError, listSome, short } from './observations.ts';
import type { CloudWatchPort, MetricQuery, MetricSeries } from './ports.ts';
import { withReadBudget } from './read-budget.ts';

export interface MetricDef {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
}

export interface CloudWatchMetricSpec extends MetricThreshold {
  /** GetMetricData queries by id (the names an expression uses). */
  readonly metrics: Readonly<Record<string, MetricDef>>;
  /** Metric math over the ids, e.g. `FILL(errors, 0) / requests`; without it there is exactly one metric. */
  readonly expression?: string;
  readonly windowMs: number;
  readonly periodSeconds: number;
}

const metricFields = ['namespace', 'name', 'dimensions', 'stat'] as const;
/** GetMetricData ids start with a lowercase letter. */
export const idPattern = /^[a-z][A-Za-z0-9_]{0,254}$/;
const resultId = 'greenlightResult';
/** CloudWatch periods: 1, 5, 10, 20 or 30 seconds (high resolution) or a multiple of 60. */
const highResolution = new Set([1, 5, 10, 20, 30]);

/** What the cloudwatch-metric check asks of AWS (lib/aws/cloudwatch.ts implements it). */
export interface CloudWatchMetricPorts {
  readonly cloudwatch: CloudWatchPort;
}

export const cloudWatchMetricCheck: CheckKind<CloudWatchMetricSpec, CloudWatchMetricPorts> = {
  parse(raw, path, f) {
    const before = f.issues.length;
    const metrics = readMetrics(raw.metrics, join(path, 'metrics'), f);
    let expression: string | undefined;
    if (raw.expression !== undefined) expression = f.string(raw.expression, join(path, 'expression'), { max: 2048 });
    else if (metrics && Object.keys(metrics).length > 1) {
      f.problem(join(path, 'expression'), 'with more than one metric, give an expression over their ids');
    }
    const windowMs = raw.window === undefined ? 300_000 : f.duration(raw.window, join(path, 'window'), 24 * 3_600_000);
    if (windowMs !== undefined && windowMs < 60_000) f.problem(join(path, 'window'), 'must be at least 1m');
    let periodSeconds = windowMs === undefined ? 60 : Math.max(60, Math.floor(windowMs / 60_000) * 60);
    if (raw.period !== undefined) {
      const ms = f.duration(raw.period, join(path, 'period'), 24 * 3_600_000);
      if (ms !== undefined) {
        const s = ms / 1000;
        if (!Number.isInteger(s) || (!highResolution.has(s) && s % 60 !== 0)) {
          f.problem(join(path, 'period'), 'must be 1s, 5s, 10s, 20s, 30s or a multiple of 1m');
        } else if (windowMs !== undefined && ms > windowMs) {
          f.problem(join(path, 'period'), `must not be longer than window (${formatDuration(windowMs)})`);
        }
        periodSeconds = s;
      }
    }
    const threshold = readThreshold(raw, path, f);
    if (f.issues.length > before || !metrics || windowMs === undefined || threshold === undefined) return undefined;
    const spec: CloudWatchMetricSpec = { metrics, windowMs, periodSeconds, ...threshold };
    return expression === undefined ? spec : { ...spec, expression };
  },

  create(spec, deps) {
    const { cloudwatch } = deps;
    const ids = Object.keys(spec.metrics);
    const queries: MetricQuery[] = Object.entries(spec.metrics).map(([id, m]) => ({
      id,
      returnData: spec.expression === undefined,
      metric: { ...m, dimensions: dimensionValues(m.dimensions), period: spec.periodSeconds },
    }));
    if (spec.expression !== undefined) {
      queries.push({ id: resultId, returnData: true, expression: spec.expression, period: spec.periodSeconds });
    }
    const wanted = spec.expression === undefined ? (ids[0] as string) : resultId;
    const what = spec.expression === undefined ? describeMetric(spec.metrics[wanted]) : short(spec.expression, 100);
    const window = formatDuration(spec.windowMs);

    // The value cannot change faster than the metric's period (a standard-resolution metric, once a
    // minute): a read younger than that is still the value, and is not asked of CloudWatch again.
    const floorMs = metricPollFloorMs(spec.periodSeconds);
    let last: { readonly series: MetricSeries[]; readonly at: number } | undefined;
    return withReadBudget(deps.clock, async (signal, at): Promise<Observation> => {
      const end = deps.clock.now();
      let series: MetricSeries[];
      let age = '';
      // The measurement whose pass would complete the check reads again: never a pass on an older reading.
      if (last && at?.final !== true && end - last.at < floorMs) {
        series = last.series;
        age = ` (as read ${((end - last.at) / 1000).toFixed(1)} s ago: the metric changes at most once in ${floorMs / 1000} s)`;
      } else {
        try {
          series = await cloudwatch.metricData(
            { queries, start: new Date(end - spec.windowMs), end: new Date(end) },
            signal,
          );
        } catch (error) {
          return awsError(`GetMetricData ${what}`, error, signal);
        }
      }
      const o = judge(series);
      if (age === '' && o.outcome !== 'error') last = { series, at: end };
      return age === '' ? o : { ...o, message: `${o.message}${age}` };
    });

    function judge(series: MetricSeries[]): Observation {
      const s = series.find((x) => x.id === wanted);
      const notes =
        s && s.messages.length > 0
          ? ` (CloudWatch: ${listSome(
              s.messages.map((m) => short(m, 80)),
              2,
            )})`
          : '';
      if (!s) return { outcome: 'error', message: `GetMetricData ${what}: no result returned` };
      if (s.status === 'InternalError' || s.status === 'Forbidden') {
        return { outcome: 'error', message: `GetMetricData ${what}: ${s.status}${notes}` };
      }
      const values = s.values.filter((v) => Number.isFinite(v));
      if (values.length === 0) return noDataObservation(spec, what, `in the last ${window}`, notes);
      const value = reduceValues(values, s.timestamps, spec.reduce);
      const partial = s.status === 'PartialData' ? ', partial data' : '';
      return thresholdObservation(
        spec,
        value,
        what,
        `${spec.reduce} of ${values.length} datapoints over ${window}`,
        partial,
        notes,
      );
    }
  },
};

/**
 * The least time between two GetMetricData reads of a check: the query's period, at most a minute (a
 * longer period aggregates standard-resolution data that changes once a minute).
 */
export function metricPollFloorMs(periodSeconds: number): number {
  return Math.min(periodSeconds, 60) * 1000;
}

function readMetrics(value: unknown, path: string, f: Fields): Record<string, MetricDef> | undefined {
  const raw = f.object(value, path);
  if (!raw) return undefined;
  const entries = Object.entries(raw);
  if (entries.length === 0 || entries.length > 10) {
    f.problem(path, 'must name 1 to 10 metrics');
    return undefined;
  }
  const out: Record<string, MetricDef> = {};
  for (const [id, def] of entries) {
    const at = join(path, id);
    if (!idPattern.test(id)) f.problem(at, 'metric ids start with a lowercase letter and use letters, digits and _');
    const m = f.object(def, at, metricFields);
    if (!m) continue;
    const namespace = f.string(m.namespace, join(at, 'namespace'), { max: 255 });
    const name = f.string(m.name, join(at, 'name'), { max: 255 });
    const dimensions = m.dimensions === undefined ? {} : f.stringMap(m.dimensions, join(at, 'dimensions'), 30);
    // CloudWatch itself judges the statistic (Sum, Average, p99, TM(10%:90%), ...): a typo comes back as an error.
    const stat = f.string(m.stat, join(at, 'stat'), { max: 64 });
    if (namespace && name && dimensions && stat) out[id] = { namespace, name, dimensions, stat };
  }
  return out;
}

/**
 * Application Load Balancer metrics take `targetgroup/<name>/<id>` and `app/<name>/<id>`: an ARN
 * (such as `{{greenTargetGroupArn}}`) is cut down to that, so plans can use the context as it comes.
 */
export function dimensionValues(dimensions: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(dimensions)) {
    const resource = name === 'TargetGroup' || name === 'LoadBalancer' ? elbDimensionValue(value) : undefined;
    out[name] = resource ?? value;
  }
  return out;
}

function describeMetric(m: MetricDef | undefined): string {
  return m ? `${m.namespace} ${m.name} ${m.stat}` : 'metric';
}
