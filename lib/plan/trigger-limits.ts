import { longestScheduleMs } from '../core/policy.ts';
import type { CheckPolicy } from '../core/types.ts';
import { codeDeployHooks, ecsStages, hookAliases, protonHooks, waitHooks } from '../spec/hooks.ts';

/** The functions that run a plan, by their folder under functions/. */
export type TriggerName =
  | 'codedeploy-hook'
  | 'ecs-lifecycle-hook'
  | 'ecs-pause-gate'
  | 'codedeploy-wait-gate'
  | 'proton-pipeline-guard';

export interface TriggerLimit {
  /** The hook or stage names (plan keys) this trigger runs. */
  readonly hooks: readonly string[];
  /** The longest schedule an analysis may have, in milliseconds. */
  readonly maxScheduleMs: number;
  /** Why, in a few words: says where the limit comes from. */
  readonly because: string;
}

/**
 * An analysis carried across invocations (ECS `IN_PROGRESS` + `callBackDelay`, state in hookDetails) may
 * run this long from its first invocation.
 */
export const carriedAnalysisMs = 24 * 3_600_000;

/**
 * One invocation: Lambda's maximum timeout is 15 minutes (template.yaml sets `Timeout: 900`); a minute of
 * it is kept to read the plan and the deployment and to report the verdict (`GREENLIGHT_REPORT_RESERVE`).
 */
const oneInvocationMs = 14 * 60_000;

/** CodeDeploy fails a lifecycle hook that has not reported within an hour of its start. */
export const codeDeployHookLimitMs = 60 * 60_000;
/** The longest schedule a CodeDeploy hook may have: its hour, less a minute to open the hook and report. */
const codeDeployHookMs = codeDeployHookLimitMs - 60_000;

/** ECS lets a PAUSE hook wait for its decision up to 14 days (the hook's `expiresAt` is the real limit). */
export const ecsPauseHookLimitMs = 14 * 24 * 3_600_000;
/**
 * CodeDeploy lets a blue/green deployment wait at most 2 days (2,880 minutes) in its ready wait
 * (`deploymentReadyOption.waitTimeInMinutes`) or its termination wait
 * (`terminationWaitTimeInMinutes`); the deployment's own minutes are the real limit.
 */
export const codeDeployWaitLimitMs = 2 * 24 * 3_600_000;

/**
 * How long each trigger lets an analysis run: the one table `greenlight validate`, the plan schema and
 * the triggers read. Raising a trigger's limit (the CodeDeploy hook on durable functions) is one line here.
 */
export const triggerLimits: Readonly<Record<TriggerName, TriggerLimit>> = {
  'codedeploy-hook': {
    hooks: [...codeDeployHooks, ...hookAliases.keys()],
    maxScheduleMs: codeDeployHookMs,
    because:
      'CodeDeploy waits at most an hour for a hook (a schedule longer than one invocation runs on a Lambda durable execution; a minute is kept to read the deployment and report)',
  },
  'ecs-lifecycle-hook': {
    hooks: ecsStages,
    maxScheduleMs: carriedAnalysisMs,
    because:
      'it carries the analysis across invocations in hookDetails (IN_PROGRESS with callBackDelay) for at most 24 h',
  },
  'ecs-pause-gate': {
    hooks: ecsStages,
    maxScheduleMs: ecsPauseHookLimitMs - 60_000,
    because:
      "ECS lets a PAUSE hook wait at most 14 days (a schedule longer than one invocation runs on a Lambda durable execution; at run time it must also end before the hook's own expiresAt)",
  },
  'codedeploy-wait-gate': {
    hooks: waitHooks,
    maxScheduleMs: codeDeployWaitLimitMs - 60_000,
    because:
      "CodeDeploy waits at most 2 days in a blue/green wait (a schedule longer than one invocation runs on a Lambda durable execution; at run time it must also end within the deployment's own waitTimeInMinutes or terminationWaitTimeInMinutes)",
  },
  'proton-pipeline-guard': {
    hooks: protonHooks,
    maxScheduleMs: oneInvocationMs,
    because: 'it runs within one Lambda invocation (15 min at most, less time to read the pipeline and report)',
  },
};

/** The triggers that run `hook` (a plan key; `*` is run by every trigger). */
export function triggersOf(hook: string): TriggerName[] {
  return (Object.keys(triggerLimits) as TriggerName[]).filter(
    (t) => hook === '*' || triggerLimits[t].hooks.includes(hook),
  );
}

/**
 * The longest the checks' schedule can take (retries of errors included), and the check that takes it.
 * Dry-run checks count too, as they do for the carried triggers' deadline (`scheduleMs`).
 */
export function longestSchedule(checks: readonly { readonly name: string; readonly policy: CheckPolicy }[]): {
  ms: number;
  check?: string;
} {
  let longest: { ms: number; check?: string } = { ms: 0 };
  for (const c of checks) {
    const ms = longestScheduleMs(c.policy);
    if (ms > longest.ms) longest = { ms, check: c.name };
  }
  return longest;
}

/**
 * Why the `checks` a plan gives `key` cannot run under `trigger`, or `undefined` when they fit.
 * Says the figures in minutes. (A function timeout set below the limit is met at run time: the trigger
 * stops before a measurement it could not finish, saying so, also in minutes.)
 */
export function scheduleProblem(
  trigger: TriggerName,
  key: string,
  checks: readonly { readonly name: string; readonly policy: CheckPolicy }[],
): string | undefined {
  const limit = triggerLimits[trigger];
  const { ms, check } = longestSchedule(checks);
  if (ms <= limit.maxScheduleMs) return undefined;
  const retries = checks.some((c) => c.name === check && c.policy.consecutiveErrorLimit > 0)
    ? ', retries of errors included'
    : '';
  return `hooks.${key}: the schedule can take up to ${minutes(ms)} (${check}${retries}), longer than the ${minutes(limit.maxScheduleMs)} ${trigger} allows: ${limit.because}; shorten count, interval or initialDelay`;
}

/** `90 min`, `14 min`, `1.5 min`, `0.2 min`: durations said in minutes, rounded up to a tenth. */
export function minutes(ms: number): string {
  const tenths = Math.ceil(Math.max(0, ms) / 6_000);
  const text = tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1);
  return `${text} min`;
}
