import { AsyncLocalStorage } from 'node:async_hooks';

/*
 * Whether AWS throttled any read of one measurement. A measurement may make several reads in a row (ECS
 * ListTasks, then DescribeTasks): when AWS throttles the first until most of the time is gone, the read that
 * is in flight when the time runs out was never throttled itself, yet throttling is why the time ran out.
 * The SDK middleware that sees throttled answers (lib/aws/retry.ts) notes them here; the measurement's read
 * budget (lib/checks/read-budget.ts) asks. Async context carries the watch through the SDK's retries.
 */

interface Watch {
  throttles: number;
}

const watches = new AsyncLocalStorage<Watch>();

/** Notes one throttled AWS answer against the measurement running in this async context, if any. */
export function noteThrottled(): void {
  const w = watches.getStore();
  if (w) w.throttles++;
}

/**
 * Runs `work` (one measurement) and says how many AWS answers within it were throttling errors, as the
 * SDK classifies them (`isThrottling` in lib/aws/retry.ts).
 */
export async function watchThrottles<T>(
  work: () => Promise<T>,
): Promise<{ readonly value: T; readonly throttles: number }> {
  const w: Watch = { throttles: 0 };
  const value = await watches.run(w, work);
  return { value, throttles: w.throttles };
}
