// The child process of `npm run invoke`: loads a bundled function and calls its handler once, like the
// Lambda runtime: environment already set by the parent, a context whose remaining time counts down.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { lambdaContext } from './lambda-context.ts';

const [bundle, exportName, eventFile, timeoutMs] = process.argv.slice(2) as [string, string, string, string];
const context = lambdaContext({
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
  timeoutMs: Number(timeoutMs),
  memoryMb: Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128'),
  region: process.env.AWS_REGION ?? 'us-east-1',
});
const send = (message: unknown): Promise<void> =>
  new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
try {
  const event: unknown = JSON.parse(await readFile(eventFile, 'utf8'));
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
