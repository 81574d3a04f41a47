import type { Observation } from '../core/types.ts';
import { describe, type Fields, join } from '../spec/fields.ts';
import { type NoDataOutcome, noDataOutcomes } from './observations.ts';

/**
 * The threshold vocabulary every metric kind shares (cloudwatch-metric, prometheus, datadog): a
 * comparison in CloudWatch alarm terms, a threshold, how the datapoints of a window become one value,
 * and what no datapoints mean. One reader, one judgement, so the kinds cannot drift apart.
 */

export const comparisons = [
  'GreaterThanThreshold',
  'GreaterThanOrEqualToThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
export type Comparison = (typeof comparisons)[number];
export const reducers = ['max', 'min', 'avg', 'sum', 'last'] as const;
export type Reducer = (typeof reducers)[number];

export interface MetricThreshold {
  /** Fails when the value compares so with `threshold` (CloudWatch alarm semantics). */
  readonly comparison: Comparison;
  readonly threshold: number;
  /** How the datapoints of the window become one value; the worst for `comparison` by default. */
  readonly reduce: Reducer;
  /** What no datapoints in the window means; `fail` by default. */
  readonly noData: NoDataOutcome;
}

/** Reads `comparison`, `threshold`, `reduce` and `noData`, naming each bad field; undefined on a problem. */
export function readThreshold(raw: Record<string, unknown>, path: string, f: Fields): MetricThreshold | undefined {
  const comparison =
    raw.comparison === undefined
      ? 'GreaterThanThreshold'
      : f.oneOf(raw.comparison, join(path, 'comparison'), comparisons);
  const threshold =
    typeof raw.threshold === 'number' && Number.isFinite(raw.threshold)
      ? raw.threshold
      : f.problem(join(path, 'threshold'), `expected a number, got ${describe(raw.threshold)}`);
  const worst: Reducer = comparison?.startsWith('Less') ? 'min' : 'max';
  const reduce = raw.reduce === undefined ? worst : f.oneOf(raw.reduce, join(path, 'reduce'), reducers);
  const noData = raw.noData === undefined ? 'fail' : f.oneOf(raw.noData, join(path, 'noData'), noDataOutcomes);
  if (comparison === undefined || threshold === undefined || reduce === undefined || noData === undefined) {
    return undefined;
  }
  return { comparison, threshold, reduce, noData };
}

/** One value from a window's datapoints; `last` takes the one with the latest timestamp. */
export function reduceValues(values: readonly number[], timestamps: readonly number[], how: Reducer): number {
  switch (how) {
    case 'max':
      return values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    case 'min':
      return values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'last': {
      let at = 0;
      for (let i = 1; i < values.length; i++) if ((timestamps[i] ?? 0) > (timestamps[at] ?? 0)) at = i;
      return values[at] as number;
    }
  }
}

export const comparisonSymbol: Record<Comparison, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

/** True when `value` breaches: compares with `threshold` as `how` says. */
export function breaches(value: number, how: Comparison, threshold: number): boolean {
  switch (how) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/** Of several values, the one closest to breaching: the largest for Greater*, the smallest for Less*. */
export function worstOf(values: readonly number[], how: Comparison): number {
  return reduceValues(values, [], how.startsWith('Less') ? 'min' : 'max');
}

/** The measurement for a window without datapoints: the plan's `noData` outcome, never silently a pass. */
export function noDataObservation(t: MetricThreshold, what: string, where: string, notes = ''): Observation {
  return { outcome: t.noData, message: `${what}: no datapoints ${where} (noData: ${t.noData})${notes}`, value: null };
}

/**
 * The measurement for a reduced value: `fail` when it breaches, `pass` otherwise.
 * `how` describes the reduction (`max of 5 datapoints over 5m`); `qualifier` follows the value
 * (`, partial data`), `notes` end the message (the provider's warnings).
 */
export function thresholdObservation(
  t: MetricThreshold,
  value: number,
  what: string,
  how: string,
  qualifier = '',
  notes = '',
): Observation {
  const shown = roundMetric(value);
  const message = `${what}: ${how} is ${shown}${qualifier}; fails when ${comparisonSymbol[t.comparison]} ${t.threshold}${notes}`;
  return { outcome: breaches(value, t.comparison, t.threshold) ? 'fail' : 'pass', message, value: shown };
}

export function roundMetric(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
