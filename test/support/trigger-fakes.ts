import type { StateKeyPort } from '../../lib/aws/state-key.ts';
import type { AlarmState, CloudWatchPort } from '../../lib/checks/ports.ts';
import type { Clock } from '../../lib/core/types.ts';
import type { GateRun } from '../../lib/gate/trigger.ts';
import { type Plan, parsePlan } from '../../lib/plan/schema.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { lambdaContext } from './lambda-context.ts';

/**
 * In-memory fakes shared by the per-trigger tests (test/triggers/*-trigger.test.ts): a real clock, a
 * silent log, a fixed state key, a CloudWatch port that answers an alarm state, and a `GateRun` for
 * calling a trigger's steps directly. No network.
 */

export const clock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    }),
};

export const quietLog: Log = { debug() {}, info() {}, warn() {}, error() {}, appendKeys() {} };

/** A fixed 32-byte key: state sealed by one test run verifies in the next invocation of the same test. */
export const stateKey: StateKeyPort = async () => new Uint8Array(32).fill(7);

/** A state key that cannot be read, as when the secret is missing. */
export const noStateKey: StateKeyPort = () => Promise.reject(new Error('secret not found'));

/** CloudWatch whose alarm `green-errors` is in `state`: the only port a `cloudwatch-alarms` check uses. */
export function cloudwatch(state: 'OK' | 'ALARM'): CloudWatchPort {
  return {
    alarms: async () => [{ name: 'green-errors', type: 'metric', state } satisfies AlarmState],
    metricData: async () => [],
  };
}

/**
 * A plan whose `hooks` map each key to either no checks (`[]`) or the one `alarms` check (`['alarms']`),
 * taking `count` measurements `interval` apart (a schedule longer than an invocation is carried on).
 */
export function alarmsPlan(hooks: Record<string, 'none' | 'alarms'>, count = 1, interval = '1s'): Plan {
  return parsePlan({
    version: 1,
    checks: { alarms: { type: 'cloudwatch-alarms', alarms: ['green-errors'], count, interval, timeout: '500ms' } },
    hooks: Object.fromEntries(Object.entries(hooks).map(([k, v]) => [k, v === 'none' ? [] : ['alarms']])),
  });
}

/** A `GateRun` for calling a trigger's steps directly, outside `runGate`. */
export function gateRun(plan: Plan, timeoutMs = 5_000): GateRun {
  const now = Date.now();
  return {
    signal: AbortSignal.timeout(timeoutMs),
    analysisEndsAt: now + timeoutMs - 500,
    reportBy: now + timeoutMs - 200,
    scope: {},
    invocation: lambdaContext(timeoutMs),
    loadPlan: async () => plan,
  };
}
