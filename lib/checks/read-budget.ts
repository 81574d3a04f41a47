import type { Clock, Measure, MeasureAt, Observation } from '../core/types.ts';
import { watchThrottles } from '../spec/throttle-watch.ts';

/** How long before the analysis cuts a measurement its AWS reads stop retrying: 5% of the time, 20-250 ms. */
function marginMs(left: number): number {
  return Math.min(250, Math.max(20, left * 0.05));
}

/**
 * A measurement whose AWS reads get the measurement's own time and no more: the signal `measure` sees
 * aborts a little before the analysis cuts the measurement (`at.cutAt`), so that a read still throttled
 * then ends in the check's own error ("throttled by AWS (ECS DescribeTasks) for 4.8 s"), not in a bare
 * "timed out". A measurement whose time ran out after AWS throttled any of its reads is marked `throttled`
 * even when the read cut was not itself throttled (an earlier read took the time). Without `at.cutAt` (a
 * check measured on its own) the signal is passed through.
 */
export function withReadBudget(clock: Clock, measure: Measure): Measure {
  return async (signal: AbortSignal, at?: MeasureAt) => {
    if (at?.cutAt === undefined) return measure(signal, at);
    const left = at.cutAt - clock.now();
    const spent = new AbortController();
    const done = new AbortController();
    void clock.sleep(Math.max(0, left - marginMs(left)), AbortSignal.any([signal, done.signal])).then(() => {
      if (!done.signal.aborted && !signal.aborted) {
        spent.abort(new Error("the measurement's time for AWS reads ran out"));
      }
    });
    try {
      const { value, throttles } = await watchThrottles(() => measure(AbortSignal.any([signal, spent.signal]), at));
      // Cut by its read budget or by the analysis's timeout (a busy event loop may run that one first).
      return spent.signal.aborted || signal.aborted ? throttledIfSo(value, throttles) : value;
    } finally {
      done.abort();
    }
  };
}

/** An error of a measurement whose time ran out after AWS throttled some of its reads: marked throttled, said so. */
function throttledIfSo(o: Observation, throttles: number): Observation {
  if (o.outcome !== 'error' || o.throttled || throttles === 0) return o;
  return { ...o, throttled: true, message: `${o.message} (AWS throttled ${throttles} of its reads)` };
}
