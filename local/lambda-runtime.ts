// The child process of `npm run invoke`: loads a bundled function and calls its handler once, like the
// Lambda runtime: environment already set by the parent, a context whose remaining time counts down.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const [bundle, exportName, eventFile, timeoutMs] = process.argv.slice(2) as [string, string, string, string];
const deadline = Date.now() + Number(timeoutMs);
const event: unknown = JSON.parse(await readFile(eventFile, 'utf8'));
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
  awsRequestId: crypto.randomUUID(),
  logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
const send = (message: unknown): Promise<void> =>
  new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
try {
  const mod = (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${bundle} does not export ${exportName}`);
  const result: unknown = await handler(event, context);
  await send({ ok: true, result: result ?? null });
} catch (error) {
  const e = error as Error;
  await send({ ok: false, errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(error) });
}
process.exit(0);
