import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { type LocalStateKey, startStateKeyStandIn } from '../local/state-key.ts';
import { localFunction, readTemplate } from '../local/template.ts';
import { esbuildOptions } from '../scripts/build.ts';

export const invokeUsage = `usage: greenlight invoke <LogicalId> <event.json> [options]
       npm run invoke -- <LogicalId> <event.json> [options]

Runs one function of template.yaml locally, as "sam local invoke" would, without Docker: the
template's handler, environment, memory and timeout; the function bundled the way SAM's esbuild
build does; a fresh Node.js process with the variables the Lambda runtime sets and a context whose
remaining time counts down. Logs go to stderr, the function's response (JSON) to stdout.

options:
  --env-vars FILE               JSON like sam's: {"<LogicalId>": {"VAR": "value"}} or {"Parameters": {...}}
  --parameter-overrides K=V     template parameters (repeatable)
  --template FILE               default template.yaml
  -h, --help

AWS_*, GREENLIGHT_* and POWERTOOLS_* variables set in your shell override the template's, so
AWS_ENDPOINT_URL_<SERVICE> can point the function at local endpoints and GREENLIGHT_RESOLVE can
send a load balancer's DNS name to 127.0.0.1.

The functions that carry state (GREENLIGHT_STATE_KEY_SECRET_ARN in the template) get a state key from
a built-in Secrets Manager stand-in on 127.0.0.1, unless your shell sets GREENLIGHT_STATE_KEY_SECRET_ARN
or AWS_ENDPOINT_URL_SECRETS_MANAGER. The stand-in's key is new for each run: a continuation from one
run does not verify in another.

exit codes: 0 the function returned, 1 it threw or timed out, 2 usage error (unknown function,
unreadable event).`;

const runtime = fileURLToPath(new URL('../local/lambda-runtime.ts', import.meta.url));

/** `greenlight invoke` and `npm run invoke`. Returns the exit code. */
export async function invokeCommand(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`invoke: ${(error as Error).message}\n\n${invokeUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(invokeUsage);
    return 0;
  }
  const [logicalId, eventPath, ...extra] = positionals;
  if (!logicalId || !eventPath || extra.length > 0) {
    console.error(invokeUsage);
    return 2;
  }
  try {
    JSON.parse(await readFile(eventPath, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`invoke: cannot use event ${eventPath}: ${e.code ?? e.message}`);
    return 2;
  }
  const parameters: Record<string, string> = {};
  for (const pair of values['parameter-overrides'] ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) {
      console.error(`invoke: --parameter-overrides expects Name=Value, got ${JSON.stringify(pair)}`);
      return 2;
    }
    parameters[pair.slice(0, i)] = pair.slice(i + 1);
  }
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  let fn: ReturnType<typeof localFunction>;
  try {
    fn = localFunction(await readTemplate(values.template), logicalId, {
      parameters,
      region,
      stackName: 'greenlight-local',
    });
  } catch (error) {
    console.error(`invoke: ${(error as Error).message}`);
    return 2;
  }

  let overrides: Record<string, string> = {};
  if (values['env-vars']) {
    try {
      const file = JSON.parse(await readFile(values['env-vars'], 'utf8')) as Record<string, Record<string, string>>;
      overrides = { ...(file.Parameters ?? {}), ...(file[logicalId] ?? {}) };
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      console.error(`invoke: cannot use --env-vars ${values['env-vars']}: ${e.code ?? e.message}`);
      return 2;
    }
  }
  const fromShell = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && /^(AWS_|GREENLIGHT_|POWERTOOLS_)/.test(k)),
  ) as Record<string, string>;

  const outdir = await mkdtemp(join(tmpdir(), 'greenlight-invoke-'));
  let stateKey: (LocalStateKey & { fake: { close(): Promise<void> } }) | undefined;
  try {
    const wantsKey = fn.environment.GREENLIGHT_STATE_KEY_SECRET_ARN !== undefined;
    const shellKey =
      fromShell.GREENLIGHT_STATE_KEY_SECRET_ARN ??
      overrides.GREENLIGHT_STATE_KEY_SECRET_ARN ??
      fromShell.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    if (wantsKey && shellKey === undefined) {
      stateKey = await startStateKeyStandIn();
      console.error(`state key: Secrets Manager stand-in at ${stateKey.endpoint}`);
    }
    await build({ ...esbuildOptions, entryPoints: [fn.entryPoint], outdir, logLevel: 'error' });
    const [file, exportName] = splitHandler(fn.handler);
    const bundle = join(outdir, `${file}.mjs`);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...fn.environment,
      ...(stateKey
        ? {
            GREENLIGHT_STATE_KEY_SECRET_ARN: stateKey.secretArn,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: stateKey.endpoint,
          }
        : {}),
      ...fromShell,
      ...overrides,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_SAM_LOCAL: 'true',
      LAMBDA_TASK_ROOT: outdir,
      LAMBDA_RUNTIME_DIR: outdir,
      _HANDLER: fn.handler,
    };
    if (env.NODE_OPTIONS?.includes('--enable-source-maps') === false) delete env.NODE_OPTIONS;

    const timeoutMs = fn.timeoutSeconds * 1000;
    const child = fork(runtime, [bundle, exportName, resolve(eventPath), String(timeoutMs)], {
      env,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: [`--max-old-space-size=${Math.max(64, fn.memoryMb - 32)}`],
    });
    // Function logs belong on stderr, as with sam local invoke; the response alone goes to stdout.
    child.stdout?.pipe(process.stderr);
    console.error(`invoking ${logicalId} (${fn.functionName}) with ${eventPath}, timeout ${fn.timeoutSeconds}s`);

    const outcome = await new Promise<
      { ok: boolean; result?: unknown; errorType?: string; errorMessage?: string } | 'timeout' | 'crashed'
    >((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done('timeout');
      }, timeoutMs + 500);
      child.on('message', (m) => {
        clearTimeout(timer);
        done(m as { ok: boolean });
      });
      child.on('exit', () => {
        clearTimeout(timer);
        done('crashed');
      });
    });
    if (outcome === 'timeout') {
      console.error(`Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`);
      return 1;
    }
    if (outcome === 'crashed') {
      console.error('the function process exited without a response');
      return 1;
    }
    if (!outcome.ok) {
      console.log(JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage }));
      return 1;
    }
    console.log(JSON.stringify(outcome.result, null, 2));
    return 0;
  } finally {
    await stateKey?.fake.close();
    await rm(outdir, { recursive: true, force: true });
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'env-vars': { type: 'string' },
      'parameter-overrides': { type: 'string', multiple: true },
      template: { type: 'string', default: 'template.yaml' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function splitHandler(handler: string): [string, string] {
  const i = handler.lastIndexOf('.');
  return [handler.slice(0, i), handler.slice(i + 1)];
}
