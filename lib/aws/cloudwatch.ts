import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmState, CloudWatchPort } from '../checks/ports.ts';
import { compact, lazy } from './lazy.ts';
import { throttledCall, withRetry } from './retry.ts';

/** More alarms than this under one prefix is a plan mistake, not something to page through for minutes. */
const maxAlarms = 500;
const maxMetricPages = 10;

export const cloudWatchClient = lazy(() => withRetry((config) => new CloudWatchClient(config)));

export function cloudWatchAdapter(client: () => CloudWatchClient = cloudWatchClient): CloudWatchPort {
  return {
    async alarms(query, signal) {
      const found: AlarmState[] = [];
      const byName = 'names' in query;
      // DescribeAlarms takes at most 100 names per call.
      const batches = byName ? chunk(query.names, 100) : [undefined];
      for (const names of batches) {
        let nextToken: string | undefined;
        do {
          const out = await throttledCall('CloudWatch DescribeAlarms', signal, (o) =>
            client().send(
              new DescribeAlarmsCommand({
                ...(names ? { AlarmNames: [...names] } : { AlarmNamePrefix: (query as { prefix: string }).prefix }),
                AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
                NextToken: nextToken,
              }),
              o,
            ),
          );
          for (const a of out.MetricAlarms ?? []) {
            found.push(
              compact({
                name: a.AlarmName ?? '',
                type: 'metric',
                state: a.StateValue ?? 'unknown',
                reason: a.StateReason,
                periodSeconds: a.Period,
              }),
            );
          }
          for (const a of out.CompositeAlarms ?? []) {
            found.push(
              compact({
                name: a.AlarmName ?? '',
                type: 'composite',
                state: a.StateValue ?? 'unknown',
                reason: a.StateReason,
              }),
            );
          }
          nextToken = out.NextToken;
        } while (nextToken && found.length < maxAlarms);
      }
      return found;
    },

    async metricData(input, signal) {
      const queries: MetricDataQuery[] = input.queries.map((q) =>
        q.metric
          ? {
              Id: q.id,
              ReturnData: q.returnData,
              MetricStat: {
                Metric: {
                  Namespace: q.metric.namespace,
                  MetricName: q.metric.name,
                  Dimensions: Object.entries(q.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
                },
                Period: q.metric.period,
                Stat: q.metric.stat,
              },
            }
          : { Id: q.id, ReturnData: q.returnData, Expression: q.expression, ...(q.period ? { Period: q.period } : {}) },
      );
      const series = new Map<
        string,
        { label?: string; status: string; values: number[]; timestamps: number[]; messages: string[] }
      >();
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const out = await throttledCall('CloudWatch GetMetricData', signal, (o) =>
          client().send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: input.start,
              EndTime: input.end,
              ScanBy: 'TimestampDescending',
              NextToken: nextToken,
            }),
            o,
          ),
        );
        const general = (out.Messages ?? []).map((m) => `${m.Code ?? 'Message'}: ${m.Value ?? ''}`);
        for (const r of out.MetricDataResults ?? []) merge(series, r, general);
        nextToken = out.NextToken;
      } while (nextToken && ++pages < maxMetricPages);
      return [...series.entries()].map(([id, s]) => compact({ id, ...s }));
    },
  };
}

function merge(
  series: Map<string, { label?: string; status: string; values: number[]; timestamps: number[]; messages: string[] }>,
  r: MetricDataResult,
  general: readonly string[],
): void {
  const id = r.Id ?? '';
  const s = series.get(id) ?? { status: 'Complete', values: [], timestamps: [], messages: [...general] };
  if (r.Label !== undefined) s.label = r.Label;
  // The worst status of any page wins: a later Complete page does not hide an earlier InternalError.
  if (r.StatusCode && r.StatusCode !== 'Complete' && s.status !== 'InternalError' && s.status !== 'Forbidden') {
    s.status = r.StatusCode;
  } else if (r.StatusCode === 'Complete' && s.status === 'PartialData') {
    s.status = 'Complete';
  }
  const values = r.Values ?? [];
  const timestamps = r.Timestamps ?? [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = timestamps[i];
    if (v === undefined || t === undefined) continue;
    s.values.push(v);
    s.timestamps.push(t.getTime());
  }
  for (const m of r.Messages ?? []) s.messages.push(`${m.Code ?? 'Message'}: ${m.Value ?? ''}`);
  series.set(id, s);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
