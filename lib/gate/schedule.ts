import { longestScheduleMs } from '../core/policy.ts';
import type { CheckPolicy } from '../core/types.ts';

/**
 * The longest the checks' schedule can take, in milliseconds: the jitter and initial delay, then every
 * measurement a check may take (`count`, plus up to `consecutiveErrorLimit` retried errors before each),
 * the last one to its timeout (`longestScheduleMs`). Checks run in parallel: the longest one decides.
 */
export function scheduleMs(checks: readonly { readonly policy: CheckPolicy }[]): number {
  return Math.max(0, ...checks.map((c) => longestScheduleMs(c.policy)));
}

/** How far in the future a timestamp from another execution environment may be (clock skew), in ms. */
export const clockSkewMs = 60_000;
