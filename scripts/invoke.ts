// npm run invoke -- <LogicalId> <event.json> [--env-vars env.json] [--parameter-overrides K=V ...]
// The same as `greenlight invoke`: runs one function of template.yaml locally, as `sam local invoke`
// would, without Docker. See cli/invoke.ts.
import { invokeCommand } from '../cli/invoke.ts';
// Durable executions (DurableAnalysisFunction, and those an entry function starts) run here, time skipped.
import { invokeWithDurable } from '../local/durable-invoke.ts';

process.exitCode = await invokeWithDurable(process.argv.slice(2), invokeCommand).catch((error: unknown) => {
  console.error(`invoke: ${(error as Error).message}`);
  return 2;
});
