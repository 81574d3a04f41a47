import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../lib/core/types.ts';

/**
 * Time for durable executions on the SDK's LocalDurableTestRunner with skipped waits, whose skipping does
 * not move the clock the handler reads: a clock moved only by a sleep that completes (in real time: they
 * are short in these tests, a measurement's timeout or a round's slack), by `advanceBy` (a fake AWS call
 * that takes long), and to the end of each durable wait (`advanceTo`, skipped).
 */
export function skippingClock(start: number): Clock & { advanceBy(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (ms <= 0 || signal.aborted) return resolve();
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', cut);
          now += ms;
          resolve();
        }, ms);
        const cut = () => {
          clearTimeout(timer);
          resolve();
        };
        signal.addEventListener('abort', cut, { once: true });
      }),
    advanceTo: (t) => {
      now = Math.max(now, t);
    },
    advanceBy: (ms) => {
      now += ms;
    },
  };
}

export interface Green {
  readonly url: string;
  /** Epoch ms (on the test clock) of each request green answered. */
  readonly hits: number[];
  close(): Promise<void>;
}

/** A local green on 127.0.0.1 whose /health answers 200 until `degradesAt` (test-clock epoch ms), then 500. */
export async function green(clock: Pick<Clock, 'now'>, degradesAt = Number.POSITIVE_INFINITY): Promise<Green> {
  const hits: number[] = [];
  const server: Server = createServer((_req, res) => {
    const now = clock.now();
    hits.push(now);
    res.statusCode = now >= degradesAt ? 500 : 200;
    res.end(now >= degradesAt ? 'degraded' : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
