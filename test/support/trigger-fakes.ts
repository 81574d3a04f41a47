import type { EcsHookAction, EcsPort } from '../../lib/aws/ecs.ts';
import type { StateKeyPort } from '../../lib/aws/state-key.ts';
import type { AlarmState, CloudWatchPort } from '../../lib/checks/ports.ts';
import type { Clock } from '../../lib/core/types.ts';
import type { GateRun } from '../../lib/gate/trigger.ts';
import { type Plan, parsePlan } from '../../lib/plan/schema.ts';
import type { Log } from '../../lib/runtime/logger.ts';
import { ecsPauseGateTrigger } from '../../lib/triggers/ecs/pause-gate.ts';
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

/**
 * The ECS PAUSE gate's trigger on an in-memory ECS: one service deployment at POST_TEST_TRAFFIC_SHIFT with
 * one PAUSE hook, `AWAITING_ACTION` until the gate continues it. `continued` lists the actions the gate sent;
 * `onContinue` runs before each is recorded (throw from it to refuse one, as a throttled ECS would).
 */
export function fakePauseGate(o: {
  readonly clock: Clock;
  readonly hookId: string;
  readonly expiresAt: number;
  readonly timeoutAction?: 'CONTINUE' | 'ROLLBACK';
  readonly cluster?: string;
  readonly service?: string;
  readonly onContinue?: (action: EcsHookAction) => void;
}): {
  readonly ecs: EcsPort;
  readonly trigger: ReturnType<typeof ecsPauseGateTrigger>;
  readonly continued: EcsHookAction[];
} {
  const continued: EcsHookAction[] = [];
  const cluster = o.cluster ?? 'my-cluster';
  const ecs: EcsPort = {
    describeServiceDeployment: async (serviceDeploymentArn) => ({
      serviceDeploymentArn,
      serviceArn: `arn:aws:ecs:us-west-2:123456789012:service/${cluster}/${o.service ?? 'my-service'}`,
      clusterArn: `arn:aws:ecs:us-west-2:123456789012:cluster/${cluster}`,
      status: 'IN_PROGRESS',
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      rolledBack: false,
      hooks: [
        {
          hookId: o.hookId,
          targetType: 'PAUSE',
          status: continued.length ? 'SUCCEEDED' : 'AWAITING_ACTION',
          expiresAt: o.expiresAt,
          ...(o.timeoutAction ? { timeoutAction: o.timeoutAction } : {}),
        },
      ],
    }),
    serviceRevisionLoadBalancers: () => Promise.reject(new Error('none')),
    serviceLoadBalancers: () => Promise.reject(new Error('none')),
    continueServiceDeployment: async ({ action }) => {
      o.onContinue?.(action);
      continued.push(action);
    },
  };
  const trigger = ecsPauseGateTrigger({
    ecs,
    listeners: { listenerUrl: () => Promise.reject(new Error('none')) },
    forwards: { forwardWeights: () => Promise.reject(new Error('none')) },
    clock: o.clock,
    log: quietLog,
    settings: { region: 'us-west-2' },
  });
  return { ecs, trigger, continued };
}
