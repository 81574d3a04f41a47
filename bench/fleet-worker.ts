// The fleet's loopback AWS (and green) in a worker thread: see startFleetAws in bench/fleet.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { startLoopbackAws } from './fleet.ts';

const aws = await startLoopbackAws((workerData as { scale: number }).scale);

parentPort?.on('message', async (m: { id: number; kind: string }) => {
  let value: unknown;
  if (m.kind === 'endpoints') value = aws.endpoints;
  else if (m.kind === 'reset') aws.reset();
  else if (m.kind === 'counts') {
    value = { answered: [...aws.counts.answered], throttled: [...aws.counts.throttled] };
  } else if (m.kind === 'close') await aws.close();
  parentPort?.postMessage({ id: m.id, value });
});
