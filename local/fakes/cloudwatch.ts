import { type JsonFake, startJsonFake } from './json-server.ts';

/** One GetMetricData query as the SDK sends it (JSON protocol). */
export interface MetricQuery {
  readonly Id: string;
  readonly ReturnData?: boolean;
  readonly Expression?: string;
  readonly MetricStat?: {
    readonly Metric?: {
      readonly Namespace?: string;
      readonly MetricName?: string;
      readonly Dimensions?: readonly { Name: string; Value: string }[];
    };
    readonly Stat?: string;
  };
}

export interface CloudWatchFake extends JsonFake {
  /** The state DescribeAlarms gives every alarm it is asked about (OK, ALARM, INSUFFICIENT_DATA). */
  setAlarmState(state: string): void;
}

/**
 * Amazon CloudWatch's DescribeAlarms and GetMetricData (JSON 1.0 protocol, X-Amz-Target
 * `GraniteServiceVersion20100801.*`) on 127.0.0.1, answering whatever is asked: every named alarm exists in the
 * state set with `setAlarmState` (a prefix matches one alarm, `<prefix>errors`), and each returned query has one
 * datapoint a minute old, its value from `valueAt`. For rehearsals, where the metrics a plan names are nobody's.
 */
export async function startCloudWatchFake(options: {
  alarmState: string;
  valueAt: (query: MetricQuery, all: readonly MetricQuery[]) => number;
}): Promise<CloudWatchFake> {
  let alarmState = options.alarmState;
  const alarm = (name: string) => ({
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
    StateValue: alarmState,
    StateReason: `set by the local fake (${alarmState})`,
  });
  const fake = await startJsonFake({
    operations: {
      DescribeAlarms: (input) => {
        const names = Array.isArray(input.AlarmNames) ? input.AlarmNames.map(String) : [];
        const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
        const found = prefix !== undefined ? [`${prefix}errors`] : names;
        return { MetricAlarms: found.map(alarm), CompositeAlarms: [] };
      },
      GetMetricData: (input) => {
        const queries = (Array.isArray(input.MetricDataQueries) ? input.MetricDataQueries : []) as MetricQuery[];
        const at = Math.floor(Date.now() / 1000) - 60;
        return {
          MetricDataResults: queries
            .filter((q) => q.ReturnData !== false)
            .map((q) => ({
              Id: q.Id,
              Label: q.Id,
              StatusCode: 'Complete',
              Values: [options.valueAt(q, queries)],
              Timestamps: [at],
            })),
          Messages: [],
        };
      },
    },
  });
  return {
    ...fake,
    setAlarmState(state) {
      alarmState = state;
    },
  };
}
