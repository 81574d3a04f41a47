import type { Observation } from '../core/types.ts';
import { join } from '../spec/fields.ts';
import type { CheckKind } from './kind.ts';
import { awsError, listSome, type NoDataOutcome, noDataOutcomes } from './observations.ts';
import type { AlarmState, CloudWatchPort } from './ports.ts';
import { withReadBudget } from './read-budget.ts';

export interface CloudWatchAlarmsSpec {
  /** Exact alarm names; each must exist. */
  readonly alarms?: readonly string[];
  /** Every alarm whose name starts with this; at least one must exist. */
  readonly alarmPrefix?: string;
  /** What an alarm in INSUFFICIENT_DATA means; `fail` by default (an alarm that cannot see is not a green light). */
  readonly insufficientData: NoDataOutcome;
}

/** What the cloudwatch-alarms check asks of AWS (lib/aws/cloudwatch.ts implements it). */
export interface CloudWatchAlarmsPorts {
  readonly cloudwatch: CloudWatchPort;
}

export const cloudWatchAlarmsCheck: CheckKind<CloudWatchAlarmsSpec, CloudWatchAlarmsPorts> = {
  parse(raw, path, f) {
    let alarms: string[] | undefined;
    let alarmPrefix: string | undefined;
    const before = f.issues.length;
    if (raw.alarms !== undefined) {
      const list = f.array(raw.alarms, join(path, 'alarms'), 100);
      alarms = list?.map((v, i) => f.string(v, join(join(path, 'alarms'), i), { max: 255 }) ?? '');
      if (list?.length === 0) f.problem(join(path, 'alarms'), 'must list at least one alarm name');
    }
    if (raw.alarmPrefix !== undefined) alarmPrefix = f.string(raw.alarmPrefix, join(path, 'alarmPrefix'), { max: 255 });
    if (raw.alarms === undefined && raw.alarmPrefix === undefined) {
      f.problem(join(path, 'alarms'), 'give alarms (a list of names) or alarmPrefix');
    } else if (raw.alarms !== undefined && raw.alarmPrefix !== undefined) {
      f.problem(join(path, 'alarmPrefix'), 'give either alarms or alarmPrefix, not both');
    }
    const insufficientData =
      raw.insufficientData === undefined
        ? 'fail'
        : f.oneOf(raw.insufficientData, join(path, 'insufficientData'), noDataOutcomes);
    if (f.issues.length > before || insufficientData === undefined) return undefined;
    if (alarms) return { alarms, insufficientData };
    return { alarmPrefix: alarmPrefix as string, insufficientData };
  },

  create(spec, deps) {
    const { cloudwatch } = deps;
    const names = spec.alarms ? [...new Set(spec.alarms)] : undefined;
    const what = names ? `alarms ${listSome(names, 3)}` : `alarms named ${spec.alarmPrefix}*`;
    // Alarms change state at most once a period: a read younger than that is the alarms' state still.
    let last: { readonly found: AlarmState[]; readonly at: number } | undefined;
    return withReadBudget(deps.clock, async (signal, at): Promise<Observation> => {
      const now = deps.clock.now();
      // CloudWatch may have evaluated an alarm at any moment since the last read: the measurement whose pass
      // would complete the check reads again, so the check never passes on an older reading.
      if (last && at?.final !== true && now - last.at < alarmPollFloorMs(last.found)) {
        const o = judge(last.found);
        const floor = alarmPollFloorMs(last.found) / 1000;
        return {
          ...o,
          message: `${o.message} (as read ${((now - last.at) / 1000).toFixed(1)} s ago: alarms change at most once a period, ${floor} s)`,
        };
      }
      let found: AlarmState[];
      try {
        found = await cloudwatch.alarms(names ? { names } : { prefix: spec.alarmPrefix ?? '' }, signal);
      } catch (error) {
        return awsError(`DescribeAlarms ${what}`, error, signal);
      }
      const o = judge(found);
      if (o.outcome !== 'error') last = { found, at: now };
      return o;
    });

    function judge(found: AlarmState[]): Observation {
      if (names) {
        const missing = names.filter((n) => !found.some((a) => a.name === n));
        if (missing.length > 0) return { outcome: 'error', message: `${what}: not found: ${listSome(missing)}` };
      } else if (found.length === 0) {
        return { outcome: 'error', message: `${what}: no alarm has this prefix` };
      }
      const inAlarm = found.filter((a) => a.state === 'ALARM').map((a) => a.name);
      if (inAlarm.length > 0) {
        return {
          outcome: 'fail',
          message: `${inAlarm.length} of ${found.length} in ALARM: ${listSome(inAlarm)}`,
          value: inAlarm.length,
        };
      }
      const blind = found.filter((a) => a.state === 'INSUFFICIENT_DATA').map((a) => a.name);
      if (blind.length > 0 && spec.insufficientData !== 'pass') {
        return {
          outcome: spec.insufficientData,
          message: `${blind.length} of ${found.length} in INSUFFICIENT_DATA (insufficientData: ${spec.insufficientData}): ${listSome(blind)}`,
          value: 0,
        };
      }
      const odd = found
        .filter((a) => a.state !== 'OK' && a.state !== 'INSUFFICIENT_DATA')
        .map((a) => `${a.name} (${a.state})`);
      if (odd.length > 0) return { outcome: 'error', message: `unknown alarm state: ${listSome(odd)}` };
      const note = blind.length > 0 ? `, ${blind.length} in INSUFFICIENT_DATA (insufficientData: pass)` : '';
      return {
        outcome: 'pass',
        message: `${found.length} alarms not in ALARM (${listSome(
          found.map((a) => a.name),
          3,
        )})${note}`,
        value: 0,
      };
    }
  },
};

/**
 * The documented minimum between two DescribeAlarms reads of a check: CloudWatch evaluates a metric alarm
 * once a period (at least 10 s for high-resolution alarms, else 60 s), and a composite alarm only when one
 * of its alarms changes. The shortest period among the alarms read, or 60 s when none gives one
 * (composite alarms); never under 10 s.
 */
export function alarmPollFloorMs(found: readonly AlarmState[]): number {
  const periods = found.map((a) => a.periodSeconds).filter((p): p is number => typeof p === 'number' && p > 0);
  const seconds = periods.length > 0 ? Math.min(...periods) : 60;
  return Math.max(10, seconds) * 1000;
}
