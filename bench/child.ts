// One fresh process, as a Lambda execution environment: imports a bundle and invokes its handler with the
// events it is given, timing each invocation until the verdict is delivered. Run by bench/run.ts.
//   node bench/child.ts <bundle.mjs> <job.json> <result.json>
import { subscribe } from 'node:diagnostics_channel';
import { readFile, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { pathToFileURL } from 'node:url';

export interface ChildJob {
  /** Events to invoke the handler with, one invocation each, in order. */
  readonly events: readonly unknown[];
  /**
   * How the verdict is delivered: an `X-Amz-Target` operation (the answer to that request marks delivery),
   * or `return` for hooks whose answer is the handler's return value.
   */
  readonly deliveredBy: string;
  /** A request to this host:port marks a measurement (the first one answered is the first measurement). */
  readonly probeHost?: string;
  readonly functionName: string;
  readonly timeoutMs: number;
}

export interface ChildResult {
  readonly importMs: number;
  readonly invocations: readonly {
    readonly deliveredMs: number;
    readonly returnedMs: number;
    readonly firstMeasurementMs?: number;
    readonly outcome: string;
  }[];
  readonly maxRssKb: number;
}

const [bundle, jobPath, resultPath] = process.argv.slice(2);
if (!bundle || !jobPath || !resultPath)
  throw new Error('usage: node bench/child.ts <bundle.mjs> <job.json> <result.json>');
const job = JSON.parse(await readFile(jobPath, 'utf8')) as ChildJob;

let delivered: number | undefined;
let firstMeasurement: number | undefined;
// The SDK and the http check both use node:http: its diagnostics channel sees each answer as it completes.
subscribe('http.client.response.finish', (message) => {
  const { request } = message as { request: ClientRequest };
  const now = performance.now();
  const target = String(request.getHeader('x-amz-target') ?? '');
  if (delivered === undefined && job.deliveredBy !== 'return' && target.endsWith(`.${job.deliveredBy}`)) {
    delivered = now;
  }
  if (firstMeasurement === undefined && job.probeHost && request.getHeader('host') === job.probeHost) {
    firstMeasurement = now;
  }
});

const importStart = performance.now();
const mod = (await import(pathToFileURL(bundle).href)) as { handler: (event: unknown, context: unknown) => unknown };
const importMs = performance.now() - importStart;

const invocations: ChildResult['invocations'][number][] = [];
for (const event of job.events) {
  delivered = undefined;
  firstMeasurement = undefined;
  const deadline = Date.now() + job.timeoutMs;
  const context = {
    functionName: job.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${job.functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${job.functionName}`,
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const started = performance.now();
  let outcome: string;
  try {
    outcome = JSON.stringify(await mod.handler(event, context)).slice(0, 200);
  } catch (error) {
    outcome = `threw ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
  const returned = performance.now();
  invocations.push({
    deliveredMs: (job.deliveredBy === 'return' ? returned : (delivered ?? Number.NaN)) - started,
    returnedMs: returned - started,
    ...(firstMeasurement !== undefined ? { firstMeasurementMs: firstMeasurement - started } : {}),
    outcome,
  });
}

const result: ChildResult = { importMs, invocations, maxRssKb: process.resourceUsage().maxRSS };
await writeFile(resultPath, JSON.stringify(result));
// Lambda freezes the environment after the answer; nothing left running should keep this process alive.
process.exit(0);
