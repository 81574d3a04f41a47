// npm run invoke -- <LogicalId> <event.json> [--env-vars env.json] [--parameter-overrides K=V ...]
// The same as `greenlight invoke`: runs one function of template.yaml locally, as `sam local invoke`
// would, without Docker. See cli/invoke.ts.
import { invokeCommand } from '../cli/invoke.ts';

process.exitCode = await invokeCommand(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`invoke: ${(error as Error).message}`);
  return 2;
});
