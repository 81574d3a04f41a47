import type { Clock } from '../../lib/core/types.ts';

/**
 * A clock whose time moves only when everything else waits: `run` lets the work go until it is idle
 * (no pending microtasks or immediates), then jumps to the earliest sleeper's time and wakes it.
 * Drives the real `analyze` through hours of schedule in milliseconds of wall time, deterministically.
 */
export function virtualClock(start = 1_700_000_000_000) {
  let now = start;
  let seq = 0;
  const timers: { at: number; seq: number; wake: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted || ms <= 0) {
          resolve();
          return;
        }
        const timer = { at: now + ms, seq: seq++, wake: () => finish() };
        const finish = (): void => {
          const i = timers.indexOf(timer);
          if (i >= 0) timers.splice(i, 1);
          signal.removeEventListener('abort', finish);
          resolve();
        };
        timers.push(timer);
        signal.addEventListener('abort', finish, { once: true });
      }),
  };
  const idle = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Runs `work` to its end, advancing time whenever it waits. */
  async function run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => {
      settled = true;
    });
    while (!settled) {
      await idle();
      if (settled) break;
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = timers[0];
      if (!next) continue;
      now = Math.max(now, next.at);
      next.wake();
    }
    return done;
  }
  return { clock, run, elapsed: () => now - start };
}
