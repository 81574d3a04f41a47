// The fleet's loopback AWS (and green) in a worker thread: see startFleetAws in bench/fleet.ts.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { startLoopbackAws } from './fleet.ts';

const aws = await startLoopbackAws((workerData as { scale: number }).scale);
// How late the loopback AWS itself answers: when this nears a measurement's timeout, the simulation, not
// the throttling it models, is what the deployments see.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

parentPort?.on('message', async (m: { id: number; kind: string }) => {
  let value: unknown;
  if (m.kind === 'endpoints') value = aws.endpoints;
  else if (m.kind === 'reset') {
    aws.reset();
    lag.reset();
  } else if (m.kind === 'counts') {
    value = {
      answered: [...aws.counts.answered],
      throttled: [...aws.counts.throttled],
      lagP99Ms: lag.percentile(99) / 1e6,
    };
  } else if (m.kind === 'close') await aws.close();
  parentPort?.postMessage({ id: m.id, value });
});
